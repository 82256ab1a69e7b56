"""``protocols.lava-multinode`` as submitted (roles, counts), and the rules it puts on actions.

The server splits a multinode submission into one sub-job per device; those
sub-jobs (``role: x``, ``group_size``, ``sub_id``...) are not submissions and
are refused here with a path.
"""

from typing import Any

from lava_common.schemas.common import NAME, STRINGS
from lava_common.schemas.context import CONTEXT
from lava_common.schemas.engine import Bool, Context, Dict, Enum, Int, Node, child, item, show
from lava_common.schemas.timeouts import TIMEOUT

MULTINODE = "lava-multinode"


def _check_role(value: dict, path: str, ctx: Context) -> None:
    # a secondary-connection role (connection: ssh) rides on its host role's device
    if "connection" in value:
        if "host_role" not in value:
            ctx.error(child(path, "host_role"), "required key missing for a role with a connection")
    elif "device_type" not in value:
        ctx.error(child(path, "device_type"), "required key missing")


ROLE = Dict(
    required={"count": Int(min=1)},
    optional={
        "device_type": NAME,
        "connection": NAME,
        "host_role": NAME,
        "expect_role": NAME,
        "request": Enum(("lava-start",), label="multinode request"),
        "timeout": TIMEOUT,
        "context": CONTEXT,
        "tags": STRINGS,
        "environment": Dict(values=Node()),
        "essential": Bool(),
    },
    checks=[_check_role],
    description="a role (a mapping with count and device_type)",
)


def _check_role_references(value: dict, path: str, ctx: Context) -> None:
    roles = value.get("roles")
    if type(roles) is not dict:
        return
    if not roles:
        ctx.error(child(path, "roles"), "must define at least one role")
    for name, role in roles.items():
        if type(role) is not dict:
            continue
        for key in ("host_role", "expect_role"):
            target = role.get(key)
            if type(target) is str and target not in roles:
                ctx.error(child(child(child(path, "roles"), name), key), f"no role named {show(target)}")


# keys the server writes into the sub-jobs it makes from a multinode submission
SUB_JOB_KEYS = ("role", "group_size", "sub_id")


def _check_not_sub_job(value: dict, path: str, ctx: Context) -> None:
    if any(key in value for key in SUB_JOB_KEYS):
        ctx.error(path, "this is a sub-job the server makes from a multinode submission "
                        "(it has role/group_size/sub_id); submit the definition with roles instead")


MULTINODE_PROTOCOL = Dict(
    required={"roles": Dict(values=ROLE, description="a mapping of role names to roles")},
    # network: the group's QEMU boards share an Ethernet segment of their own (lava-network)
    optional={"timeout": TIMEOUT, "target_group": NAME, "network": Bool()},
    checks=[_check_not_sub_job, _check_role_references],
)

# top-level keys that belong to each role in a multinode job
PER_ROLE_KEYS = ("device_type", "context", "environment", "tags")


def check_multinode_job(job: dict[str, Any], ctx: Context) -> None:
    protocol = job["protocols"][MULTINODE]
    roles = protocol.get("roles") if type(protocol) is dict else None
    known = set(roles) if type(roles) is dict else None
    for key in PER_ROLE_KEYS:
        if key in job:
            ctx.error(key, f"not allowed in a multinode job: set it for each role in "
                           f"protocols.{MULTINODE}.roles")
    actions = job.get("actions")
    if type(actions) is not list:
        return
    for index, wrapper in enumerate(actions):
        if type(wrapper) is not dict or len(wrapper) != 1:
            continue
        (action_type, block), = wrapper.items()
        if type(block) is not dict:
            continue
        where = child(item("actions", index), action_type)
        if "role" not in block:
            ctx.error(child(where, "role"), "required key missing in a multinode job")
            continue
        if known is None or type(block["role"]) is not list:
            continue
        for position, name in enumerate(block["role"]):
            if type(name) is str and name not in known:
                ctx.error(item(child(where, "role"), position), f"no role named {show(name)} in "
                                                                f"protocols.{MULTINODE}.roles")
