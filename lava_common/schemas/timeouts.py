"""Timeout blocks: ``{minutes: 5}``, optionally with ``skip: true``.

Whole numbers >= 1 of one or more units; several units add up
(``{minutes: 1, seconds: 30}`` is 90 seconds), as the reference does. An
unknown unit is refused with the reason, because a silently ignored typo
("mins") would leave a job running on the 30-second default.
"""

from typing import Any

from lava_common.schemas.engine import Context, Custom, Dict, child, kind, named, show, words
from lava_common.timeouts import UNITS, timeout_seconds

_UNIT_NAMES = words(UNITS)


def _check_timeout(value: Any, path: str, ctx: Context) -> None:
    if type(value) is not dict:
        ctx.error(path, f"expected a timeout such as {{minutes: 5}}, got {kind(value)}")
        return
    has_unit = False
    for key, amount in value.items():
        if key in UNITS:
            has_unit = True
            if type(amount) is not int or amount < 1:
                shown = show(amount) if type(amount) is int else kind(amount)
                ctx.error(child(path, key), f"expected a whole number >= 1, got {shown}")
        elif key == "skip":
            if type(amount) is not bool:
                ctx.error(child(path, key), f"expected true or false, got {show(amount)}")
        else:
            ctx.error(child(path, key), f"unknown timeout unit {show(key)}; use {_UNIT_NAMES}")
    if not has_unit:
        ctx.error(path, f"needs at least one of {_UNIT_NAMES}")


_JSON = {
    "type": "object",
    "properties": {**{unit: {"type": "integer", "minimum": 1} for unit in UNITS}, "skip": {"type": "boolean"}},
    "anyOf": [{"required": [unit]} for unit in UNITS],
    "additionalProperties": False,
}

TIMEOUT = named("timeout", Custom(_check_timeout, json=_JSON, description="a timeout", accepts=lambda v: type(v) is dict))

# {action-or-connection-name: timeout}
NAMED_TIMEOUTS = named("named-timeouts", Dict(values=TIMEOUT, description="a mapping of action names to timeouts"))

JOB_TIMEOUTS = Dict(
    required={"job": TIMEOUT},
    optional={
        "action": TIMEOUT,
        "actions": NAMED_TIMEOUTS,
        "connection": TIMEOUT,
        "connections": NAMED_TIMEOUTS,
        "queue": TIMEOUT,
    },
)


def seconds_of(value: Any) -> int | None:
    """Seconds of a well-formed timeout block, None for anything malformed (already reported)."""
    if type(value) is not dict:
        return None
    amounts = [value[unit] for unit in UNITS if unit in value]
    if not amounts or any(type(amount) is not int or amount < 1 for amount in amounts):
        return None
    return timeout_seconds(value)


def describe(value: dict[str, Any]) -> str:
    """``{hours: 2}`` -> "2 hours", ``{minutes: 1, seconds: 30}`` -> "1 minute 30 seconds", as written."""
    parts = []
    for unit in UNITS:
        if unit in value:
            amount = value[unit]
            parts.append(f"{show(amount)} {unit[:-1] if amount == 1 else unit}")
    return " ".join(parts) if parts else show(value)
