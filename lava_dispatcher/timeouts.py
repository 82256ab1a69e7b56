"""Which timeout applies to an action and to its console waits (reference §4.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lava_common.constants import ACTION_TIMEOUT
from lava_common.timeouts import UNITS, timeout_seconds


@dataclass
class Timeout:
    name: str
    duration: int = ACTION_TIMEOUT
    skip: bool = False


def _seconds(block: Any) -> int | None:
    if isinstance(block, dict) and any(unit in block for unit in UNITS):
        return timeout_seconds(block)
    return None


@dataclass(frozen=True)
class TimeoutSources:
    """The job's and the device's timeout blocks, in the shape they were written."""

    job: dict[str, Any]
    device: dict[str, Any]

    def action_timeout(
        self, name: str, block: dict[str, Any], parent_share: int | None = None
    ) -> Timeout:
        """Resolved lowest to highest priority; a later source overrides an earlier one."""
        candidates = [
            _seconds(self.job.get("action")),
            _seconds((self.device.get("actions") or {}).get(name)),
            _seconds(block.get("timeout")),
            parent_share,
            _seconds((self.job.get("actions") or {}).get(name)),
            _seconds((block.get("timeouts") or {}).get(name)),
        ]
        duration = ACTION_TIMEOUT
        for value in candidates:
            if value is not None:
                duration = value
        skip = bool((block.get("timeout") or {}).get("skip", False)) if isinstance(block.get("timeout"), dict) else False
        return Timeout(name, duration, skip)

    def connection_timeout(self, name: str, default: int) -> Timeout:
        candidates = [
            _seconds(self.job.get("connection")),
            _seconds((self.device.get("connections") or {}).get(name)),
            _seconds((self.job.get("connections") or {}).get(name)),
        ]
        duration = default
        for value in candidates:
            if value is not None:
                duration = value
        return Timeout(name, duration)

    @property
    def job_timeout(self) -> int | None:
        return _seconds(self.job.get("job"))
