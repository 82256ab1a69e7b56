"""What /proc says about lava-run processes the worker did not spawn itself (after a restart).

A pid alone is not proof: pids are reused. A process is "our lava-run" only
if it is alive (not a zombie), started at the recorded clock tick, and its
command line is lava-run's for this job.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    # the command name is in parentheses and may itself hold spaces or ')'
    return text[text.rfind(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot), or None when it is gone or a zombie."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22 of stat, counting from the pid


def cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [arg.decode("utf-8", "replace") for arg in raw.split(b"\0") if arg]


def is_job_process(pid: int, ticks: int | None, output_dir: str) -> bool:
    """True while ``pid`` is still the lava-run started for the job writing into ``output_dir``."""
    now_ticks = start_ticks(pid)
    if now_ticks is None or (ticks is not None and now_ticks != ticks):
        return False
    argv = cmdline(pid)
    return any("lava-run" in arg for arg in argv) or output_dir in argv


def find_job_processes(output_dir: str) -> list[int]:
    """Processes whose arguments name ``output_dir``: a lava-run spawned just before a crash of the worker."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and output_dir in cmdline(int(entry.name)):
            if start_ticks(int(entry.name)) is not None:
                found.append(int(entry.name))
    return found


