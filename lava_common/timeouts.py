"""The one timeout model: units, reading a timeout block, and which block applies to an action.

A timeout block is a mapping such as ``{minutes: 5}``, optionally with
``skip: true``. The job schema, the device schema, the scheduler (queue
timeouts) and the dispatcher all read blocks through this module; the schemas
say what is wrong with a malformed one, in their own words.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lava_common.records import record

UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}

DEFAULT_ACTION_TIMEOUT = 30  # seconds, when no block applies


def timeout_seconds(value: Any) -> int | None:
    """Seconds of a timeout block, its units added up; None when ``value`` holds no usable unit."""
    if not isinstance(value, dict):
        return None
    total = None
    for unit, factor in UNITS.items():
        if unit not in value:
            continue
        amount = value[unit]
        if type(amount) is not int or amount < 0:
            return None
        total = (total or 0) + amount * factor
    return total


def format_duration(seconds: float) -> str:
    """HH:MM:SS, as the dispatcher's start/end log lines show durations."""
    seconds = int(round(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@record
class Timeout:
    name: str
    duration: int = DEFAULT_ACTION_TIMEOUT
    skip: bool = False


class TimeoutSources(NamedTuple):
    """The job's and the device's ``timeouts:`` blocks, and the precedence rule between them (reference §4.6)."""

    job: dict[str, Any]
    device: dict[str, Any]

    def action_timeout(self, name: str, block: dict[str, Any], parent_share: int | None = None) -> Timeout:
        """Resolved lowest to highest priority; a later source overrides an earlier one."""
        candidates = [
            timeout_seconds(self.job.get("action")),
            timeout_seconds((self.device.get("actions") or {}).get(name)),
            timeout_seconds(block.get("timeout")),
            parent_share,
            timeout_seconds((self.job.get("actions") or {}).get(name)),
            timeout_seconds((block.get("timeouts") or {}).get(name)),
        ]
        own = block.get("timeout")
        skip = bool(own.get("skip", False)) if isinstance(own, dict) else False
        return Timeout(name, _last_set(candidates, DEFAULT_ACTION_TIMEOUT), skip)

    def connection_timeout(self, name: str, default: int) -> Timeout:
        candidates = [
            timeout_seconds(self.job.get("connection")),
            timeout_seconds((self.device.get("connections") or {}).get(name)),
            timeout_seconds((self.job.get("connections") or {}).get(name)),
        ]
        return Timeout(name, _last_set(candidates, default))

    @property
    def job_timeout(self) -> int | None:
        return timeout_seconds(self.job.get("job"))


def _last_set(candidates: list[int | None], default: int) -> int:
    found = [value for value in candidates if value is not None]
    return found[-1] if found else default
