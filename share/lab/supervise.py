"""Keep the lab's daemons running: one that ends is started again after a growing pause.

What the packaged systemd units do with ``Restart=always``: a crash costs a few
seconds of service, not the lab. The pause doubles from 1 s up to 30 s while a
daemon keeps dying soon after its start (a broken configuration must not spin
the CPU), and falls back to 1 s once it has run for a minute.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from processes import ChildProcesses

FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0
STABLE_AFTER = 60.0


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class Supervisor:
    def __init__(self, children: ChildProcesses, report: Callable[[str, str], None],
                 before_restart: dict[str, Callable[[], None]] | None = None,
                 on_restart: Callable[[], None] | None = None) -> None:
        """``report(daemon, message)`` prints and logs; ``before_restart[daemon]()`` clears what it left behind."""
        self.children = children
        self.report = report
        self.before_restart = before_restart or {}
        self.on_restart = on_restart or (lambda: None)
        now = time.monotonic()
        self.started = {name: now for name in children.processes}
        self.pause: dict[str, float] = {}
        self.due: dict[str, float] = {}  # daemon -> when its pause ends
        self.restarts: dict[str, int] = {}

    def poll(self) -> None:
        now = time.monotonic()
        for name, process in list(self.children.processes.items()):
            if name in self.due:
                if now >= self.due[name]:
                    self._restart(name)
                continue
            code = process.poll()
            if code is None:
                continue
            ran = now - self.started.get(name, now)
            pause = FIRST_PAUSE if ran >= STABLE_AFTER else min(2 * self.pause.get(name, FIRST_PAUSE / 2),
                                                                LONGEST_PAUSE)
            self.pause[name] = pause
            self.due[name] = now + pause
            self.report(name, f"{name} {describe_exit(code)} after {ran:.0f} s; restarting it in {pause:g} s "
                              f"(log: {self.children.log_path(name)})")

    def _restart(self, name: str) -> None:
        del self.due[name]
        if name in self.before_restart:
            self.before_restart[name]()
        process = self.children.restart(name)
        self.started[name] = time.monotonic()
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.report(name, f"{name} restarted (pid {process.pid}, restart {self.restarts[name]})")
        self.on_restart()
