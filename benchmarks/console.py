"""Console throughput of lava-run: a board that prints 200,000 lines as fast as it can.

The "board" is a local command used as the connection of a ``minimal`` boot; its
lines go through pexpect, the line splitter and the logger into logs.yaml (and stderr).
Prints lines per second, CPU seconds used by lava-run, and whether every line arrived.

usage: .venv/bin/python benchmarks/console.py [LINES]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TARGET_LINES_PER_SECOND = 20_000


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    work = Path(tempfile.mkdtemp(prefix="lava-console-bench-"))
    # prints its lines, then behaves like a shell: a prompt for every line it is sent
    board = (f"sh -c 'seq -f \"board line %.0f\" 1 {count}; "
             "while true; do printf \"bench-done# \"; read x || exit 0; done'")
    device = {
        "hostname": "bench-01", "devicetype": "fake", "constants": {"failure_retry": 1},
        "commands": {"connect": board}, "parameters": {},
        "actions": {"deploy": {"methods": {}}, "boot": {"methods": {"minimal": {}}}},
        "timeouts": {"actions": {}, "connections": {}},
    }
    job = {
        "job_name": "console benchmark", "device_type": "fake", "visibility": "public",
        "timeouts": {"job": {"minutes": 10}, "action": {"minutes": 5}, "connection": {"minutes": 5}},
        "actions": [{"boot": {"method": "minimal", "reset": False, "prompts": ["bench-done# "]}}],
    }
    (work / "device.yaml").write_text(yaml.safe_dump(device))
    (work / "job.yaml").write_text(yaml.safe_dump(job))
    (work / "dispatcher.yaml").write_text(yaml.safe_dump({"dispatcher_download_dir": str(work / "dl")}))
    cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir", str(work / "out"),
           "--device", str(work / "device.yaml"), "--dispatcher", str(work / "dispatcher.yaml"),
           str(work / "job.yaml")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    seen = 0
    first = last = None
    in_order = True
    with (work / "out" / "logs.yaml").open() as log:
        for line in log:
            record = json.loads(line[2:])
            if record["lvl"] != "target" or not str(record["msg"]).startswith("board line "):
                continue
            seen += 1
            if record["msg"] != f"board line {seen}":
                in_order = False
            stamp = datetime.fromisoformat(record["dt"])
            first = first or stamp
            last = stamp
    span = (last - first).total_seconds() if first and last else 0.0
    rate = seen / span if span > 0 else float("inf")
    print(f"lines printed by the board: {count}")
    print(f"lines in logs.yaml:         {seen} ({'none lost, in order' if seen == count and in_order else 'LOST OR REORDERED'})")
    print(f"logging rate:               {rate:,.0f} lines/s (first to last target record, {span:.2f} s)")
    print(f"whole lava-run:             {wall:.2f} s wall, {cpu:.2f} s CPU (exit {proc.returncode})")
    print(f"target:                     >= {TARGET_LINES_PER_SECOND:,} lines/s")
    ok = proc.returncode == 0 and seen == count and in_order and rate >= TARGET_LINES_PER_SECOND
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
