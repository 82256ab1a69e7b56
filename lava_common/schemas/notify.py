"""The job ``notify:`` block: who is told about the job, and when."""

from typing import Any

from lava_common.schemas.engine import Context, Dict, Enum, List, Map, Node, Str, child

_CRITERIA_TYPES = ("regression", "progression")


def _check_criteria(value: dict, path: str, ctx: Context) -> None:
    # regressions and progressions compare a finished job's health with the previous one
    if "type" in value and value.get("status") not in ("complete", "incomplete"):
        ctx.error(child(path, "type"), "a regression or progression needs status complete or incomplete")


CRITERIA = Dict(
    required={"status": Enum(("all", "finished", "running", "complete", "incomplete", "canceled"),
                             label="notification status")},
    optional={"type": Enum(_CRITERIA_TYPES, label="notification type"), "dependency_query": Str()},
    checks=[_check_criteria],
)

RECIPIENT = Dict(
    required={"to": Dict(
        required={"method": Enum(("email", "irc"), label="notification method")},
        optional={"user": Str(), "email": Str(), "handle": Str(), "server": Str()},
    )},
)

CALLBACK = Dict(
    required={"url": Str(min_len=1)},
    optional={
        "method": Enum(("GET", "POST"), label="callback method"),
        "token": Str(),
        "header": Str(),
        "dataset": Enum(("minimal", "logs", "results", "all"), label="callback dataset"),
        "content-type": Enum(("urlencoded", "json"), label="callback content-type"),
    },
)

COMPARE = Dict(
    optional={
        "blacklist": List(Str()),
        "query": Dict(optional={"username": Str(), "name": Str(), "entity": Str(), "conditions": Map(Node())}),
    },
)


def _check_notify(value: dict[str, Any], path: str, ctx: Context) -> None:
    if "callback" in value and "callbacks" in value:
        ctx.error(child(path, "callbacks"), "callback and callbacks cannot be used together")


NOTIFY = Dict(
    required={"criteria": CRITERIA},
    optional={
        "verbosity": Enum(("verbose", "quiet", "status-only"), label="verbosity"),
        "recipients": List(RECIPIENT),
        "callback": CALLBACK,
        "callbacks": List(CALLBACK),
        "compare": COMPARE,
    },
    checks=[_check_notify],
)
