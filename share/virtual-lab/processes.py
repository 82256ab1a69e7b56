"""Child processes of a lab runner: started in their own session, logged to files, all stopped at the end.

Also finds what escaped: QEMU boards daemonize (their parent is PID 1, not
us), and a worker stopped with SIGTERM leaves its lava-run jobs running on
purpose. Everything a lab starts names the lab's state directory on its
command line, so ``kill_strays(state_dir)`` finds exactly those processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


class StartError(Exception):
    """A process did not come up; the message says which and where its log is."""


class ChildProcesses:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self._how: dict[str, tuple] = {}  # name -> how it was started, for restart()

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None, to_terminal: bool = False) -> subprocess.Popen:
        """Start ``command``; its output goes to ``log_dir/NAME.log``, or to our own stdout if ``to_terminal``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(os.devnull if to_terminal else self.log_path(name), "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=None if to_terminal else log, stderr=subprocess.STDOUT,
                env=env, cwd=cwd,
                start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
            )
        self.processes[name] = process
        self._how[name] = (command, env, cwd, to_terminal)
        return process

    def restart(self, name: str) -> subprocess.Popen:
        """Start ``name`` again as it was started, after killing what the ended one left in its group."""
        _signal_group(self.processes[name].pid, signal.SIGKILL)  # its children hold its ports and ptys
        self.processes[name].wait()
        command, env, cwd, to_terminal = self._how[name]
        return self.start(name, command, env, cwd, to_terminal)

    def ended(self) -> str | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def stop(self, name: str, timeout: float = 15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        _signal_group(process.pid, signal.SIGKILL)  # whatever it left in its group

    def stop_all(self, timeout: float = 15.0) -> None:
        """Newest first: the later processes depend on the earlier ones."""
        for name in reversed(list(self.processes)):
            self.stop(name, timeout)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_until(predicate: Callable[[], bool], timeout: float, what: str,
               children: ChildProcesses | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if children is not None and (name := children.ended()):
            raise StartError(f"{name} exited while waiting for {what} (log: {children.log_path(name)})")
        if time.monotonic() > deadline:
            raise StartError(f"{what} did not come up within {timeout:g} s")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def processes_naming(marker: str) -> dict[int, str]:
    """Live processes (not zombies, not us or our parents) whose command line contains ``marker``."""
    found: dict[int, str] = {}
    mine = _ancestors()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in cmdline and state != "Z":
            found[int(entry.name)] = cmdline.strip()
    return found


def kill_strays(marker: str, grace: float = 5.0) -> list[str]:
    """SIGTERM, then SIGKILL, every live process naming ``marker``; returns their command lines."""
    strays = processes_naming(marker)
    for pid in strays:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while processes_naming(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in processes_naming(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return list(strays.values())


def start_detached(command: list[str], state_dir: Path, pid_file: Path, timeout: float = 60.0) -> int:
    """Start a ``run`` in the background and wait until it wrote ``state_dir/ready``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "ready").unlink(missing_ok=True)
    with open(state_dir / "virtual-lab.log", "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while not (state_dir / "ready").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            print(f"the virtual lab did not start; see {state_dir / 'virtual-lab.log'}", file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(f"virtual lab running (pid {process.pid}); log: {state_dir / 'virtual-lab.log'}")
    return 0


def stop_detached(pid_file: Path, timeout: float = 30.0) -> None:
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return
    if b"virtual_lab.py" not in cmdline:  # the pid was reused by something else
        pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
