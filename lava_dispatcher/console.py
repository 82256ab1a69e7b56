"""A board console driven with pexpect: a process whose stdio is the serial line
(``telnet`` to ser2net, QEMU's own stdio, ...).

Everything read is logged line by line at level ``target`` and handed to the
line observers (test-shell signal parser, kernel message detector); what is
sent is logged at level ``input``.
"""

from __future__ import annotations

import os
import re
import select
import signal
import time
from collections.abc import Callable
from typing import Any

import pexpect

from lava_common.exceptions import ConnectionClosedError, LAVATimeoutError
from lava_dispatcher.alarm import LONGEST_WAIT
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.processes import ProcessRegistry

LineObserver = Callable[[str], None]
MAX_PENDING = 64 * 1024
DRAIN_QUIET = 0.02  # seconds of silence after which a console has said what it had to say
STOP_GRACE = 0.5  # seconds a console process has to end on SIGTERM before SIGKILL (as long as pexpect took)
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b")


class _LineSplitter:
    """pexpect's ``logfile_read``: turns chunks into complete lines."""

    def __init__(self, logger: JobLogger) -> None:
        self.logger = logger
        self.pending = ""
        self.observers: list[LineObserver] = []
        self.indexed_observers: list[LineObserver] = []

    def write(self, chunk: str) -> None:
        data = self.pending + chunk
        if "\n" not in data:
            self.pending = data
            if len(data) > MAX_PENDING:
                self.flush_partial()  # a board that never ends its line must not grow memory
            return
        *lines, self.pending = data.split("\n")
        lines = [self._clean(line) for line in lines]
        if self.indexed_observers:
            # these read logger.line_count to know each line's index: log one line at a time
            for line in lines:
                self._emit(line)
        else:
            self.logger.target_lines(lines)
            for observer in self.observers:
                for line in lines:
                    observer(line)
        self.logger.flush()

    @staticmethod
    def _clean(line: str) -> str:
        line = line.rstrip("\r")
        if "\x1b" in line:
            # terminal control sequences (busybox ash asks for the cursor position) are noise
            line = _ESCAPES.sub("", line)
        return line

    def _emit(self, line: str) -> None:
        self.logger.target(line, flush=False)
        for observer in self.observers + self.indexed_observers:
            observer(line)

    def flush_partial(self) -> None:
        """Log a line still waiting for its newline (a prompt, typically)."""
        line = self._clean(self.pending)
        self.pending = ""
        if line.strip():
            self._emit(line)
            self.logger.flush()

    def flush(self) -> None:  # file protocol; lines are flushed in write()
        pass


def _program_and_args(command: str | list[str]) -> tuple[str, list[str]]:
    if isinstance(command, list):
        if not command:
            raise ValueError("an empty command")
        return command[0], list(command[1:])
    # only the device dictionary's connection commands come as text: the admin may use shell syntax
    return "/bin/sh", ["-c", f"exec {command}"]


class Console:
    """``command`` is an argument list (run as is, no shell) or, only for the device dictionary's own
    commands (``connection_command``), an admin-written shell command line."""

    def __init__(
        self,
        command: str | list[str],
        logger: JobLogger,
        processes: ProcessRegistry,
        name: str = "serial",
        maxread: int = 4092,
        tags: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = command
        self.logger = logger
        self.processes = processes
        self.name = name
        self.tags = tags
        self.character_delay_ms = 0
        self.prompts: list[str] = []
        self.owns_board = False  # True when the process is the board (QEMU), not a cable to it
        self._matched: Any = None  # the pattern the last wait ended on; None once anything is sent
        self.lines = _LineSplitter(logger)
        program, args = _program_and_args(command)
        self.spawn = pexpect.spawn(
            program,
            args,
            encoding="utf-8",
            codec_errors="replace",
            maxread=maxread,
            searchwindowsize=maxread * 2,
            timeout=30,
            echo=False,
            env=env,
        )
        self.spawn.delaybeforesend = None
        self.spawn.logfile_read = self.lines
        # pexpect makes the child a session leader: its pid is also its process group
        processes.add(self.spawn.pid)

    @property
    def pid(self) -> int:
        return self.spawn.pid

    @property
    def at_prompt(self) -> bool:
        """The last wait ended on one of the shell prompts and nothing was sent since: the shell waits
        for a command, and another round trip to see its prompt again would only cost time."""
        return self._matched is not None and self._matched in self.prompts

    def add_observer(self, observer: LineObserver, needs_line_index: bool = False) -> None:
        """``observer`` sees every complete line; with ``needs_line_index`` the line is already logged
        and ``logger.line_count - 1`` is its index when the observer runs."""
        (self.lines.indexed_observers if needs_line_index else self.lines.observers).append(observer)

    def remove_observer(self, observer: LineObserver) -> None:
        for group in (self.lines.observers, self.lines.indexed_observers):
            if observer in group:
                group.remove(observer)

    def expect(
        self, patterns: list[Any], timeout: float, what: str = "", eof_ok: bool = False, log_partial: bool = True
    ) -> int:
        """Index of the first pattern seen; TIMEOUT and EOF become LAVA errors saying what was awaited.

        ``log_partial`` logs the unfinished line at once (a prompt waits for input and never gets
        its newline); waits that match inside lines (signals, monitors) must not cut them in two.
        """
        wanted = list(patterns) + [pexpect.EOF, pexpect.TIMEOUT]
        self._matched = None
        index = self.spawn.expect(wanted, timeout=min(timeout, LONGEST_WAIT))
        if log_partial or index >= len(patterns):
            self.lines.flush_partial()
        if index == len(patterns):
            if eof_ok:
                return -1
            raise ConnectionClosedError(f"{self.name}: the connection closed while waiting for {what or patterns}")
        if index == len(patterns) + 1:
            raise LAVATimeoutError(f"{what or 'console'}: timed out after {int(timeout)} seconds waiting for {patterns}")
        self._matched = patterns[index]
        return index

    @property
    def match(self) -> Any:
        return self.spawn.match

    @property
    def before(self) -> str:
        return self.spawn.before or ""

    def send(self, text: str, delay_ms: int | None = None) -> None:
        self._matched = None
        delay = self.character_delay_ms if delay_ms is None else delay_ms
        if delay:
            for char in text:
                self.spawn.send(char)
                time.sleep(delay / 1000.0)
        else:
            self.spawn.send(text)

    def sendline(self, text: str = "", delay_ms: int | None = None, log: bool = True) -> None:
        if log:
            self.logger.input(text)
        self.send(text + "\n", delay_ms)

    def sendcontrol(self, char: str) -> None:
        self.logger.input(f"Ctrl-{char.upper()}")
        self._matched = None
        self.spawn.sendcontrol(char)

    def drain(self, seconds: float = 0.2, quiet: float | None = DRAIN_QUIET) -> None:
        """Read (and log) whatever the board still prints: until it has been silent for ``quiet``
        seconds (None: for the whole ``seconds``; 0: what has already arrived), ``seconds`` at most."""
        if self.spawn.closed or (not self.spawn.isalive() and self.spawn.eof()):
            return
        end = time.monotonic() + seconds
        try:
            while (left := end - time.monotonic()) > 0:
                self.spawn.read_nonblocking(65536, timeout=max(0.001, left if quiet is None else min(quiet, left)))
        except (pexpect.TIMEOUT, pexpect.EOF, OSError):
            pass
        self.lines.flush_partial()

    def disconnect(self) -> None:
        """Leave the remote end politely (telnet escape), when it is a telnet session."""
        first = self.command[:1] if isinstance(self.command, list) else self.command.split()[:1]
        if "telnet" in self.tags or first == ["telnet"]:
            try:
                self.spawn.sendcontrol("]")
                self.spawn.expect("telnet>", timeout=1)
                self.spawn.sendline("quit")
                self.spawn.expect(pexpect.EOF, timeout=1)
            except (pexpect.TIMEOUT, pexpect.EOF, OSError):
                pass

    def stop_process(self) -> None:
        """End the console process and everything in its group: SIGTERM and SIGHUP (a hung-up line
        ends an interactive shell), SIGKILL for what is left after STOP_GRACE; returns as soon as
        the process has ended."""
        pid = self.spawn.pid
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):
                break
        self._wait_for_exit(pid, STOP_GRACE)
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # ptyprocess sleeps 0.1 s after closing, for a process that is still ending: ours has ended
        self.spawn.ptyproc.delayafterclose = 0
        try:
            self.spawn.close(force=True)
        except (OSError, pexpect.ExceptionPexpect):
            pass
        self.processes.discard(pid)

    def _wait_for_exit(self, pid: int, seconds: float) -> None:
        """Until the process has ended, ``seconds`` at most. A pidfd wakes us the moment it ends (a
        power-off is on the way to every job's end); without one (Linux < 5.3), poll every 5 ms."""
        deadline = time.monotonic() + seconds
        try:
            pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None  # no pidfds here, or the process is already gone: the loop below sees which
        poller = None
        if pidfd is not None:
            poller = select.poll()  # not select(): it refuses descriptors above 1023
            poller.register(pidfd, select.POLLIN)
        try:
            while self._alive() and (left := deadline - time.monotonic()) > 0:
                if poller is None:
                    time.sleep(0.005)
                else:
                    poller.poll(left * 1000)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _alive(self) -> bool:
        try:
            return self.spawn.isalive()  # reaps the process once it has ended
        except (OSError, pexpect.ExceptionPexpect):
            return False

    def close(self) -> None:
        if not self.spawn.closed and self.spawn.isalive():
            self.disconnect()
        self.stop_process()
