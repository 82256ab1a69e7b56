"""The job definition: top-level keys, the action list, and the checks that span several keys."""

from typing import Any

from lava_common.safe_paths import job_path_problems
from lava_common.schemas.boot import BOOT
from lava_common.schemas.command import COMMAND
from lava_common.schemas.common import FREE_MAPPING, NAME, STRINGS
from lava_common.schemas.context import CONTEXT
from lava_common.schemas.deploy import DEPLOY
from lava_common.schemas.engine import (
    Bool,
    Context,
    Custom,
    Dict,
    List,
    Node,
    Str,
    child,
    item,
    kind,
    show,
    words,
)
from lava_common.schemas.multinode import MULTINODE, MULTINODE_PROTOCOL, check_multinode_job
from lava_common.schemas.notify import NOTIFY
from lava_common.schemas.test import TEST
from lava_common.schemas.timeouts import JOB_TIMEOUTS, TIMEOUT, describe, seconds_of

# action type -> schema; a plain dict so the dispatcher can list what exists
ACTION_TYPES: dict[str, Node] = {"boot": BOOT, "command": COMMAND, "deploy": DEPLOY, "test": TEST}
RESERVED_NAMESPACES = ("common", "docker-test-shell")
PRIORITY_NAMES = ("high", "medium", "low")


def _check_priority(value: Any, path: str, ctx: Context) -> None:
    if value in PRIORITY_NAMES and type(value) is str:
        return
    if type(value) is int and 0 <= value <= 100:
        return
    ctx.error(path, f"must be high, medium, low or an integer 0..100, got {show(value)}")


PRIORITY = Custom(_check_priority, json={"anyOf": [{"enum": list(PRIORITY_NAMES)},
                                                  {"type": "integer", "minimum": 0, "maximum": 100}]},
                  description="a priority")

_GROUP_VISIBILITY = Dict(required={"group": List(NAME, min_len=1)})


def _check_visibility(value: Any, path: str, ctx: Context) -> None:
    if type(value) is dict:
        _GROUP_VISIBILITY.check(value, path, ctx)
    elif value not in ("public", "personal") or type(value) is not str:
        ctx.error(path, f"must be public, personal or {{group: [names]}}, got {show(value)}")


VISIBILITY = Custom(_check_visibility, json=lambda defs: {"anyOf": [{"enum": ["public", "personal"]},
                                                                  _GROUP_VISIBILITY.json_schema(defs)]},
                    description="a visibility")


def _check_actions(value: Any, path: str, ctx: Context) -> None:
    if type(value) is not list:
        ctx.error(path, f"expected a list of actions, got {kind(value)}")
        return
    if not value:
        ctx.error(path, "must not be empty")
    for index, wrapper in enumerate(value):
        where = item(path, index)
        if type(wrapper) is not dict:
            ctx.error(where, f"expected an action such as {{deploy: {{...}}}}, got {kind(wrapper)}")
            continue
        if len(wrapper) != 1:
            ctx.error(where, f"an action has exactly one key ({words(sorted(ACTION_TYPES))}), "
                             f"got {len(wrapper)}: {show(list(wrapper))}")
            continue
        (action_type, block), = wrapper.items()
        schema = ACTION_TYPES.get(action_type) if type(action_type) is str else None
        if schema is None:
            ctx.error(where, f"unknown action type {show(action_type)}; known: {words(sorted(ACTION_TYPES))}")
            continue
        schema.check(block, child(where, action_type), ctx)


ACTIONS = Custom(
    _check_actions,
    json=lambda defs: {"type": "array", "minItems": 1, "items": {"anyOf": [
        {"type": "object", "properties": {name: schema.json_schema(defs)}, "required": [name],
         "additionalProperties": False}
        for name, schema in sorted(ACTION_TYPES.items())
    ]}},
    description="a list of actions",
)

PROTOCOLS = Dict(
    optional={
        MULTINODE: MULTINODE_PROTOCOL,
        "lava-xnbd": Dict(optional={"port": Custom(
            lambda v, p, c: None if v == "auto" or (type(v) is int and 0 < v < 65536)
            else c.error(p, f"must be auto or a port number, got {show(v)}"),
            json={"anyOf": [{"const": "auto"}, {"type": "integer", "minimum": 1, "maximum": 65535}]},
        ), "timeout": TIMEOUT}),
        "lava-lxc": FREE_MAPPING,
        "lava-vland": FREE_MAPPING,
    },
)

JOB = Dict(
    required={
        "job_name": Str(min_len=1, max_len=200),
        "timeouts": JOB_TIMEOUTS,
        "visibility": VISIBILITY,
        "actions": ACTIONS,
    },
    optional={
        "device_type": Str(min_len=1, max_len=200),
        "device": NAME,
        "worker": NAME,
        "priority": PRIORITY,
        "context": CONTEXT,
        "metadata": Dict(values=Node(), description="a mapping"),
        "tags": STRINGS,
        "secrets": Dict(values=Node(), description="a mapping of secret names to values"),
        "environment": Dict(values=Node(), description="a mapping of variable names to values"),
        "protocols": PROTOCOLS,
        "notify": NOTIFY,
        "reboot_to_fastboot": Bool(),
    },
    description="a job definition (a mapping)",
)


def _action_blocks(job: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """(index, type, block) of every well-formed action; malformed ones were already reported."""
    actions = job.get("actions")
    if type(actions) is not list:
        return []
    blocks = []
    for index, wrapper in enumerate(actions):
        if type(wrapper) is dict and len(wrapper) == 1:
            (action_type, block), = wrapper.items()
            if type(block) is dict and action_type in ACTION_TYPES:
                blocks.append((index, action_type, block))
    return blocks


def _block_path(index: int, action_type: str) -> str:
    return f"actions[{index}].{action_type}"


def _check_timeouts(job: dict[str, Any], blocks: list, ctx: Context) -> None:
    timeouts = job.get("timeouts")
    if type(timeouts) is not dict:
        return
    limit = seconds_of(timeouts.get("job"))
    if limit is None or not ctx.refuse_long_timeouts:
        return
    limit_text = describe(timeouts["job"])

    # paths are built only for the (rare) offenders: this runs on every submission
    def compare(value: Any, parent: str, key: Any) -> None:
        seconds = seconds_of(value)
        if seconds is not None and seconds > limit:
            ctx.error(child(parent, key), f"{describe(value)} is longer than the job timeout ({limit_text})")

    def compare_named(named: Any, parent: str) -> None:
        if type(named) is dict:
            for name, value in named.items():
                compare(value, parent, name)

    for key in ("action", "connection"):
        if key in timeouts:
            compare(timeouts[key], "timeouts", key)
    for key in ("actions", "connections"):
        if key in timeouts:
            compare_named(timeouts[key], f"timeouts.{key}")
    for index, action_type, block in blocks:
        if "timeout" in block:
            compare(block["timeout"], _block_path(index, action_type), "timeout")
        if "timeouts" in block:
            compare_named(block["timeouts"], f"{_block_path(index, action_type)}.timeouts")


def _check_namespaces(blocks: list, ctx: Context) -> None:
    if not any("namespace" in block for _index, _type, block in blocks):
        return
    for index, action_type, block in blocks:
        namespace = block.get("namespace")
        if namespace is None:
            ctx.error(f"{_block_path(index, action_type)}.namespace",
                      "required when other actions have a namespace")
        elif namespace in RESERVED_NAMESPACES:
            ctx.error(f"{_block_path(index, action_type)}.namespace", f"{show(namespace)} is reserved")


def check_job(job: Any, ctx: Context) -> None:
    """Schema, then the rules spanning several keys (run on whatever parts are well-formed)."""
    JOB.check(job, "", ctx)
    if type(job) is not dict:
        return
    protocols = job.get("protocols")
    if type(protocols) is dict and MULTINODE in protocols:
        check_multinode_job(job, ctx)
    elif "device_type" not in job:
        ctx.error("device_type", "required key missing (or use protocols.lava-multinode roles)")
    blocks = _action_blocks(job)
    _check_timeouts(job, blocks, ctx)
    _check_namespaces(blocks, ctx)
    for parts, reason in job_path_problems(job):
        where = ""
        for part in parts:
            where = item(where, part) if type(part) is int else child(where, part)
        ctx.error(where, reason)
