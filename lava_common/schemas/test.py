"""Test actions. The kind is inferred from the keys present; ``TEST_KINDS`` lists them."""

from typing import Any

from lava_common.schemas.common import ACTION, COMPRESSION, DOCKER, FREE_MAPPING, NAME, STRINGS
from lava_common.schemas.engine import (
    AnyOf,
    Bool,
    Const,
    Context,
    Custom,
    Dict,
    Enum,
    Int,
    List,
    Map,
    Node,
    Str,
    child,
    item,
    kind,
    named,
    show,
    words,
)
from lava_common.schemas.testdef import TESTDEF

TESTDEF_NAME = Str(min_len=1, pattern=r"[-_a-zA-Z0-9.]+\Z",
                   pattern_help="may only use letters, digits, '-', '_' and '.'")

SKIP_INSTALL = Enum(("keys", "sources", "deps", "steps", "git-repos", "all"), label="install step")


def _check_definition(value: dict, path: str, ctx: Context) -> None:
    source = value.get("from")
    if "repository" not in value:
        ctx.error(child(path, "repository"), "required key missing")
        return
    repository = value["repository"]
    if source == "inline":
        if type(repository) is dict:
            TESTDEF.check(repository, child(path, "repository"), ctx)
        else:
            ctx.error(child(path, "repository"), f"an inline definition is a mapping, got {kind(repository)}")
    elif source in ("git", "url") and (type(repository) is not str or not repository):
        ctx.error(child(path, "repository"), f"expected a {source} URL, got {show(repository)}")


DEFINITION = named("test-definition", Dict(
    required={"from": Enum(("git", "url", "inline"), label="test definition source"), "name": TESTDEF_NAME,
              "path": NAME},
    optional={
        "repository": Node(),  # shape depends on "from": see _check_definition
        "branch": Str(),
        "revision": AnyOf(Str(), Int(), description="a revision (string)"),
        "history": Bool(),
        "recursive": Bool(),
        "shallow": Bool(),
        "parameters": Map(Node()),
        "params": Map(Node()),
        "compression": COMPRESSION,
        "strip-components": Int(min=0),
        "headers": Map(Str()),
        "skip_install": List(SKIP_INSTALL),
        "lava-signal": Enum(("stdout", "kmsg"), label="lava-signal"),
        "expected": List(Node()),
    },
    checks=[_check_definition],
    description="a test definition reference (a mapping)",
))


def _check_named_entries(value: Any, path: str, ctx: Context, entry: Node, what: str, results: bool) -> None:
    """A non-empty list of ``entry`` mappings whose names are unique; ``results``: each name is a results
    suite's, and "lava" is LAVA's own."""
    if type(value) is not list:
        ctx.error(path, f"expected a list of {what}s, got {kind(value)}")
        return
    if not value:
        ctx.error(path, "must not be empty")
    seen: set[str] = set()
    for index, one in enumerate(value):
        where = item(path, index)
        entry.check(one, where, ctx)
        name = one.get("name") if type(one) is dict else None
        if type(name) is str:
            if results and name == "lava":
                ctx.error(child(where, "name"), "'lava' is reserved for LAVA's own results")
            elif name in seen:
                ctx.error(child(where, "name"), f"duplicate {what} name {show(name)}")
            seen.add(name)


def _check_definitions(value: Any, path: str, ctx: Context) -> None:
    _check_named_entries(value, path, ctx, DEFINITION, "test definition", results=True)


DEFINITIONS = Custom(_check_definitions, json=lambda defs: {"type": "array", "minItems": 1,
                                                            "items": DEFINITION.json_schema(defs)},
                     description="a list of test definitions", accepts=lambda v: type(v) is list)

_MESSAGE = Dict(required={"message": NAME})
_FAILURE = Dict(
    required={"message": NAME},
    optional={"exception": Enum(("InfrastructureError", "JobError", "TestError"), label="exception"),
              "error": Str()},
)
_MULTINODE_CALL = AnyOf(Str(), FREE_MAPPING, description="a message id or a mapping")



def _check_command(value: Any, path: str, ctx: Context) -> None:
    if value is not None and type(value) is not str:  # null means: only wait for the prompt
        ctx.error(path, f"expected a command string or null, got {kind(value)}")


_COMMAND = Custom(_check_command, json={"type": ["string", "null"]}, description="a command or null")

_SCRIPT_STEP = Dict(
    optional={
        "name": TESTDEF_NAME,
        "command": _COMMAND,
        "delay": Int(min=0),
        "wait_for_prompt": Bool(),
        "successes": List(_MESSAGE),
        "failures": List(_FAILURE),
        "lava-send": _MULTINODE_CALL,
        "lava-sync": _MULTINODE_CALL,
        "lava-wait": _MULTINODE_CALL,
        "lava-wait-all": _MULTINODE_CALL,
    },
)

INTERACTIVE = List(Dict(
    required={"name": TESTDEF_NAME, "prompts": STRINGS, "script": List(_SCRIPT_STEP, min_len=1)},
    optional={"echo": Const("discard"), "expected": List(Node())},
), min_len=1)

MONITORS = List(Dict(
    required={"name": TESTDEF_NAME, "start": NAME, "end": NAME, "pattern": NAME},
    optional={"fixupdict": Map(Str()), "expected": List(Node())},
), min_len=1)

# a docker-compose service name (also an argument of `docker-compose up`: it cannot start with '-')
SERVICE_NAME = Str(min_len=1, pattern=r"[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z",
                   pattern_help="must be a docker-compose service name (letters, digits, '_', '.', '-')")
_SERVICE_URL_SCHEMES = ("http://", "https://", "file://")


def _check_service(value: dict, path: str, ctx: Context) -> None:
    source, repository = value.get("from"), value.get("repository")
    if type(repository) is str:
        if source == "url" and not repository.startswith(_SERVICE_URL_SCHEMES):
            ctx.error(child(path, "repository"), f"'from: url' needs an http, https or file URL, got {show(repository)}")
        elif repository.startswith("-"):
            ctx.error(child(path, "repository"), "must not start with '-'")
    for key in ("branch", "revision"):
        if key in value and source != "git":
            ctx.error(child(path, key), "only a 'from: git' service has a branch or revision")
        elif type(value.get(key)) is str and value[key].startswith("-"):
            ctx.error(child(path, key), "must not start with '-'")
    if "compression" in value and source != "url":
        ctx.error(child(path, "compression"), "only a 'from: url' service (a tarball) has a compression")


SERVICE = named("test-service", Dict(
    required={"name": TESTDEF_NAME, "from": Enum(("git", "url"), label="service source"), "repository": NAME,
              "path": NAME},
    optional={"service": SERVICE_NAME, "compression": COMPRESSION, "branch": NAME, "revision": NAME},
    checks=[_check_service],
    description="a test service (a mapping: name, from, repository, path)",
))


def _check_services(value: Any, path: str, ctx: Context) -> None:
    _check_named_entries(value, path, ctx, SERVICE, "test service", results=False)


SERVICES = Custom(_check_services, json=lambda defs: {"type": "array", "minItems": 1,
                                                      "items": SERVICE.json_schema(defs)},
                  description="a list of test services", accepts=lambda v: type(v) is list)

_TEST = ACTION.extend(optional={"name": NAME})

# reference module names (test.definition, test.docker...) -> schema
TEST_KINDS: dict[str, Dict] = {
    "definition": _TEST.extend({"definitions": DEFINITIONS}),
    "docker": _TEST.extend({"definitions": DEFINITIONS, "docker": DOCKER}),
    "interactive": _TEST.extend({"interactive": INTERACTIVE}),
    "monitor": _TEST.extend({"monitors": MONITORS}),
    "service": _TEST.extend({"services": SERVICES}),
}
_KIND_KEYS = ("definitions", "interactive", "monitors", "services")


def test_kind(block: dict) -> str | None:
    """Which kind of test block this is, from its keys (None when it has none of them)."""
    if "definitions" in block:
        return "docker" if "docker" in block else "definition"
    if "interactive" in block:
        return "interactive"
    if "monitors" in block:
        return "monitor"
    if "services" in block:
        return "service"
    return None


def _check_test(value: Any, path: str, ctx: Context) -> None:
    if type(value) is not dict:
        ctx.error(path, f"expected a test block (a mapping), got {kind(value)}")
        return
    present = [key for key in _KIND_KEYS if key in value]
    if not present:
        ctx.error(path, f"a test block needs one of {words(_KIND_KEYS)}")
        return
    if len(present) > 1:
        ctx.error(path, f"a test block has one of {words(_KIND_KEYS)}, got {' and '.join(present)}")
    TEST_KINDS[test_kind(value) or "definition"].check(value, path, ctx)


TEST = Custom(_check_test, json=lambda defs: {"anyOf": [schema.json_schema(defs) for schema in TEST_KINDS.values()]},
              description="a test block", accepts=lambda v: type(v) is dict)
