"""Test definitions ("Lava-Test Test Definition 1.0"), in their own files or inline in a job.

Extra keys are allowed at every level, as in the reference: test authors keep
their own bookkeeping in these files.
"""

from typing import Any

from lava_common.schemas.engine import (
    ALLOW,
    AnyOf,
    Bool,
    Const,
    Context,
    Dict,
    List,
    Map,
    Node,
    Str,
    child,
    kind,
    named,
)

TESTDEF_FORMAT = "Lava-Test Test Definition 1.0"

_TEXT = AnyOf(Str(), List(Node()), description="a string or a list")
_SCALAR_LIST = List(Node())

_METADATA = Dict(
    required={"format": Const(TESTDEF_FORMAT), "name": Str(min_len=1)},
    optional={
        "description": Str(),
        "version": AnyOf(Str(), Node()),
        "maintainer": _SCALAR_LIST,
        "os": _SCALAR_LIST,
        "scope": _SCALAR_LIST,
        "devices": _SCALAR_LIST,
        "environment": _SCALAR_LIST,
    },
    extra=ALLOW,
)

_GIT_REPO = AnyOf(
    Str(min_len=1),
    Dict(required={"url": Str(min_len=1)}, optional={"branch": Str(), "destination": Str(),
                                                     "skip_by_default": Bool()}, extra=ALLOW),
    description="a git URL or a mapping with url",
)

_STEPS = List(Node())  # shell lines; YAML may turn "true" or "1" into non-strings, which run fine


def _check_install(value: dict, path: str, ctx: Context) -> None:
    # deps-<distro> lists follow the same shape as deps
    for key, entry in value.items():
        if type(key) is str and key.startswith("deps-") and type(entry) is not list:
            ctx.error(child(path, key), f"expected a list, got {kind(entry)}")


_INSTALL = Dict(
    optional={
        "keys": _SCALAR_LIST,
        "sources": _SCALAR_LIST,
        "deps": _SCALAR_LIST,
        "git-repos": List(_GIT_REPO),
        "steps": _STEPS,
    },
    extra=ALLOW,
    checks=[_check_install],
)

_PARSE = Dict(
    optional={"pattern": Str(min_len=1), "fixupdict": Map(Node()), "fixup": Map(Node())},
    extra=ALLOW,
)

_PARAMS = Map(Node(), description="a mapping of variable names to values")

TESTDEF = named("testdef", Dict(
    required={"metadata": _METADATA},
    optional={
        "params": _PARAMS,
        "parameters": _PARAMS,
        "install": _INSTALL,
        "run": Dict(optional={"steps": _STEPS}, extra=ALLOW),
        "parse": _PARSE,
        "expected": List(Str()),
    },
    extra=ALLOW,
    description="a test definition (a mapping)",
))


def check_testdef(value: Any, path: str, ctx: Context) -> None:
    TESTDEF.check(value, path, ctx)
