"""Start-up time of ``lava-run --validate`` on a small job, whole process (target: at most 80 ms, issue 17).

Wall time and the CPU time of the process (steadier than wall time on a shared host);
with --callgrind, also the instructions one run executes under valgrind's callgrind,
the figure that does not move with the host's load.

usage: .venv/bin/python benchmarks/lava_run_startup.py [RUNS] [--callgrind]
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JOB = REPO / "tests" / "dispatcher" / "jobs" / "qemu-tests.yaml"
DEVICE = REPO / "tests" / "dispatcher" / "devices" / "qemu-x86_64.yaml"
TARGET = 0.08


def main() -> int:
    options = [arg for arg in sys.argv[1:] if arg.startswith("--")]
    numbers = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    runs = int(numbers[0]) if numbers else 20
    lava_run = REPO / ".venv" / "bin" / "lava-run"
    base = [str(lava_run)] if lava_run.exists() else [sys.executable, "-m", "lava_dispatcher.cli"]
    times = []
    cpu = []
    with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as pycache:
        # an installed lava-run has its byte code compiled; a checkout run with
        # PYTHONDONTWRITEBYTECODE would recompile every module on every start
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        warm = [*base, "--job-id", "1", "--output-dir", work, "--device", str(DEVICE), "--validate", str(JOB)]
        subprocess.run(warm, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(runs):
            cmd = [*base, "--job-id", "1", "--output-dir", work, "--device", str(DEVICE), "--validate", str(JOB)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.monotonic() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if proc.returncode != 0:
                print(f"lava-run --validate failed (exit {proc.returncode})")
                return 1
        if "--callgrind" in options:
            print(instructions(cmd, env))
    print(f"lava-run --validate, {runs} runs ({' '.join(base[-1:])}): median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; CPU median {statistics.median(cpu) * 1000:.0f} ms "
          f"(target <= {TARGET * 1000:.0f} ms)")
    return 0 if statistics.median(times) <= TARGET else 1


def instructions(cmd: list[str], env: dict[str, str]) -> str:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return "instructions: valgrind is not installed"
    command = cmd
    if cmd[0].endswith("lava-run"):
        # the interpreter its shebang line names, as the timed runs use it: another path to the
        # same venv would find the byte code of its modules under other names, and compile them
        command = [Path(cmd[0]).read_text().splitlines()[0][2:].strip(), *cmd]
    proc = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                          cwd=REPO, env=env, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        return f"instructions: callgrind failed: {proc.stderr.strip().splitlines()[-1:]}"
    return f"instructions (callgrind, one run): {int(found.group(1)) / 1e6:.0f} M"


if __name__ == "__main__":
    sys.exit(main())
