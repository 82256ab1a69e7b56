"""Hard deadlines with one interval timer: the job wall and each running action's limit.

Nested actions push their deadline; the timer is always armed for the
earliest one, and when it fires the owner's name ends up in the error.
"""

from __future__ import annotations

import signal
import time

from lava_common.exceptions import LAVATimeoutError
from lava_common.records import record

JOB_LABEL = "job"
# the longest single wait armed (interval timer, console wait): setitimer and select overflow near
# the platform's time_t limit, and a job may ask for {days: 10**20}; a far deadline just wakes
# the timer, which re-arms (see _fire)
LONGEST_WAIT = 30 * 86400.0


@record
class _Deadline:
    at: float
    label: str
    duration: float


class DeadlineStack:
    def __init__(self) -> None:
        self._stack: list[_Deadline] = []
        self._installed = False

    def _install(self) -> None:
        if not self._installed:
            signal.signal(signal.SIGALRM, self._fire)
            self._installed = True

    def _rearm(self) -> None:
        pending = [d.at for d in self._stack if d.at != float("inf")]
        if not pending:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        remaining = min(pending) - time.monotonic()
        # an already-passed deadline still has to fire, so never arm 0 (which disarms)
        signal.setitimer(signal.ITIMER_REAL, min(max(remaining, 0.001), LONGEST_WAIT))

    def _fire(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        expired = [d for d in self._stack if d.at <= now + 0.0005]
        if not expired:
            self._rearm()  # woke early (timer granularity)
            return
        first = min(expired, key=lambda d: d.at)
        # disarm the expired one so cleanup code is not interrupted twice for it
        first.at = float("inf")
        self._rearm()
        error = LAVATimeoutError(f"{first.label} timed out after {int(first.duration)} seconds")
        error.job_wall = first.label == JOB_LABEL  # type: ignore[attr-defined]
        raise error

    def push(self, label: str, duration: float) -> _Deadline:
        self._install()
        deadline = _Deadline(time.monotonic() + duration, label, duration)
        self._stack.append(deadline)
        self._rearm()
        return deadline

    def pop(self, deadline: _Deadline) -> None:
        if deadline in self._stack:
            self._stack.remove(deadline)
        self._rearm()

    def remaining(self) -> float:
        """Seconds before the earliest deadline (inf when none is set)."""
        if not self._stack:
            return float("inf")
        return max(0.0, min(d.at for d in self._stack) - time.monotonic())

    def clear(self) -> None:
        self._stack.clear()
        if self._installed:
            signal.setitimer(signal.ITIMER_REAL, 0)
