"""Every process group the job started, so that none outlives it (no QEMU left behind)."""

from __future__ import annotations

import os
import signal
import time


def group_exists(pgid: int) -> bool:
    """Whether a process group still has a member (one we may not signal counts)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ProcessRegistry:
    def __init__(self) -> None:
        self._groups: set[int] = set()

    def add(self, pgid: int) -> None:
        self._groups.add(pgid)

    def discard(self, pgid: int) -> None:
        self._groups.discard(pgid)

    def __len__(self) -> int:
        return len(self._groups)

    def kill_all(self, grace: float = 2.0) -> None:
        """SIGTERM every group, then SIGKILL what is left after ``grace`` seconds."""
        for pgid in list(self._groups):
            try:
                os.killpg(pgid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                self._groups.discard(pgid)
        end = time.monotonic() + grace
        while self._groups and time.monotonic() < end:
            self._groups = {pgid for pgid in self._groups if group_exists(pgid)}
            self._reap()
            if self._groups:
                time.sleep(0.02)
        for pgid in list(self._groups):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._groups.clear()
        self._reap()

    @staticmethod
    def _reap() -> None:
        # our children must not stay as zombies
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
