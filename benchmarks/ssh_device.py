"""An ssh device: time from lava-run's start to the first test result, against the same command run with ssh
by hand.

The device is a local OpenSSH sshd with a private configuration (share/virtual-lab/ssh_host.py). The job
deploys to ssh (builds the overlay, packs it), boots over ssh (checks the key, copies the overlay with scp,
opens the session, unpacks the overlay) and runs one test case, ``uname -a``. By hand: ``ssh HOST uname -a``
with the same key and options. Prints the median of each over RUNS runs and what the dispatcher adds.

usage: .venv/bin/python benchmarks/ssh_device.py [RUNS]     (needs root, openssh-server)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
from ssh_host import SshHost, sshd_available  # noqa: E402

from lava_dispatcher.device import parse_device  # noqa: E402
from lava_dispatcher.ssh_target import ssh_target  # noqa: E402
from lava_scheduler.device_config.render import render_device_yaml  # noqa: E402

COMMAND = "uname -a"


def job() -> dict:
    return {
        "job_name": "ssh benchmark", "device_type": "ssh", "visibility": "public",
        "timeouts": {"job": {"minutes": 3}, "connection": {"seconds": 30}},
        "actions": [
            {"deploy": {"to": "ssh"}},
            {"boot": {"method": "ssh", "connection": "ssh", "prompts": [r"ssh-host:[^#\r\n]*# "]}},
            {"test": {"definitions": [{
                "from": "inline", "name": "bench", "path": "inline/bench.yaml",
                "repository": {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "bench"},
                               "run": {"steps": [f"lava-test-case uname --shell {COMMAND}"]}},
            }]}},
        ],
    }


def first_result_seconds(work: Path, device: Path, run: int) -> tuple[float, float]:
    """(seconds to the first test result, seconds to the end of lava-run) for one job."""
    job_path = work / "job.yaml"
    job_path.write_text(yaml.safe_dump(job()))
    dispatcher = work / "dispatcher.yaml"
    dispatcher.write_text(yaml.safe_dump({"dispatcher_download_dir": str(work / "dl"), "prefix": "bench-"}))
    command = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", str(run), "--output-dir",
               str(work / f"out-{run}"), "--device", str(device), "--dispatcher", str(dispatcher), str(job_path)]
    started = time.monotonic()
    first = None
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    for line in proc.stderr:
        if first is None and line.startswith("{"):
            record = json.loads(line)
            if record.get("lvl") == "results" and record["msg"].get("definition") != "lava":
                first = time.monotonic() - started
    proc.wait()
    total = time.monotonic() - started
    if proc.returncode != 0 or first is None:
        raise SystemExit(f"lava-run failed (exit {proc.returncode}); see {work / f'out-{run}'}")
    return first, total


def by_hand_seconds(device: Path) -> float:
    target = ssh_target(parse_device(yaml.safe_load(device.read_text())))
    started = time.monotonic()
    subprocess.run(target.ssh_argv(COMMAND), check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    why_not = sshd_available()
    if why_not:
        print(f"cannot run: {why_not}")
        return 1
    work = Path(tempfile.mkdtemp(prefix="lava-ssh-bench-"))
    host = SshHost(work / "sshd")
    host.start()
    try:
        results_dir = work / "host-root"
        device = work / "device.yaml"
        device.write_text(render_device_yaml("ssh-bench-01", host.dictionary(
            extra=f"{{% set lava_test_results_dir = '{results_dir}/lava-%s' %}}\n")))
        hand = [by_hand_seconds(device) for _ in range(runs)]
        timings = [first_result_seconds(work, device, run) for run in range(1, runs + 1)]
    finally:
        host.stop()
    first = statistics.median(t[0] for t in timings)
    total = statistics.median(t[1] for t in timings)
    bare = statistics.median(hand)
    print(f"runs: {runs} (medians)")
    print(f"ssh by hand, '{COMMAND}':                 {bare:6.2f} s")
    print(f"lava-run start to the first test result:  {first:6.2f} s")
    print(f"lava-run start to its end:                {total:6.2f} s")
    print(f"what the dispatcher adds before the result: {first - bare:6.2f} s "
          "(start-up, overlay, key check, scp, session, unpack, test runner)")
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
