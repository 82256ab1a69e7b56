"""Timeout blocks: ``{minutes: 5}``, optionally with ``skip: true``.

Exactly one unit, a whole number >= 1; anything else is refused with the
reason, because a silently ignored typo ("mins") would leave a job running
on the 30-second default.
"""

from typing import Any

from lava_common.schemas.engine import Context, Custom, Dict, child, kind, named, show, words
from lava_common.timeouts import UNITS, timeout_seconds

_UNIT_NAMES = words(UNITS)


def _check_timeout(value: Any, path: str, ctx: Context) -> None:
    if type(value) is not dict:
        ctx.error(path, f"expected a timeout such as {{minutes: 5}}, got {kind(value)}")
        return
    units = []
    for key, amount in value.items():
        if key in UNITS:
            units.append(key)
            if type(amount) is not int or amount < 1:
                shown = show(amount) if type(amount) is int else kind(amount)
                ctx.error(child(path, key), f"expected a whole number >= 1, got {shown}")
        elif key == "skip":
            if type(amount) is not bool:
                ctx.error(child(path, key), f"expected true or false, got {show(amount)}")
        else:
            ctx.error(child(path, key), f"unknown timeout unit {show(key)}; use one of {_UNIT_NAMES}")
    if not units:
        ctx.error(path, f"needs one of {_UNIT_NAMES}")
    elif len(units) > 1:
        ctx.error(path, f"give exactly one of {_UNIT_NAMES}, got {' and '.join(units)}")


def _json() -> dict[str, Any]:
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {unit: {"type": "integer", "minimum": 1}, "skip": {"type": "boolean"}},
                "required": [unit],
                "additionalProperties": False,
            }
            for unit in UNITS
        ]
    }


TIMEOUT = named("timeout", Custom(_check_timeout, json=_json(), description="a timeout", accepts=lambda v: type(v) is dict))

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
    extra="forbid",
)


def seconds_of(value: Any) -> int | None:
    """Seconds of a well-formed timeout block, None for anything malformed (already reported)."""
    if type(value) is not dict:
        return None
    units = [unit for unit in UNITS if unit in value]
    if len(units) != 1 or type(value[units[0]]) is not int or value[units[0]] < 1:
        return None
    return timeout_seconds(value)


def describe(value: dict[str, Any]) -> str:
    """``{hours: 2}`` -> "2 hours", as the user wrote it."""
    for unit in UNITS:
        if unit in value:
            amount = value[unit]
            return f"{show(amount)} {unit[:-1] if amount == 1 else unit}"
    return show(value)
