"""Start-up time of ``lava-run --validate`` on a small job, whole process (target < 0.5 s, stretch 0.12 s).

usage: .venv/bin/python benchmarks/lava_run_startup.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JOB = REPO / "tests" / "dispatcher" / "jobs" / "qemu-tests.yaml"
DEVICE = REPO / "tests" / "dispatcher" / "devices" / "qemu-x86_64.yaml"


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    lava_run = REPO / ".venv" / "bin" / "lava-run"
    base = [str(lava_run)] if lava_run.exists() else [sys.executable, "-m", "lava_dispatcher.cli"]
    times = []
    with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as pycache:
        # an installed lava-run has its byte code compiled; a checkout run with
        # PYTHONDONTWRITEBYTECODE would recompile every module on every start
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        warm = [*base, "--job-id", "1", "--output-dir", work, "--device", str(DEVICE), "--validate", str(JOB)]
        subprocess.run(warm, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(runs):
            cmd = [*base, "--job-id", "1", "--output-dir", work, "--device", str(DEVICE), "--validate", str(JOB)]
            started = time.monotonic()
            proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.monotonic() - started)
            if proc.returncode != 0:
                print(f"lava-run --validate failed (exit {proc.returncode})")
                return 1
    print(f"lava-run --validate, {runs} runs ({' '.join(base[-1:])}): median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms (target < 500 ms, stretch 120 ms)")
    return 0 if statistics.median(times) < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
