"""A docker device: lava-run start to the first test result, against ``docker run`` by hand.

Starts a private dockerd (share/virtual-lab/private_dockerd.py: no host network
change), imports the busybox image, then, RUNS times each:

- by hand: ``docker run --rm --network none IMAGE sh -c 'test "$(hostname)" ...'``,
  the same check as the job's one test case, until its output is read;
- lava-run: a docker device job (deploy, boot, one test case) from the process start to the
  test case's result record, and to the process exit (container removed).

Prints the medians and what the dispatcher adds (overlay build, docker create/cp/start,
login, test runner, removal).

usage: .venv/bin/python benchmarks/docker_device.py [RUNS]   (as root; needs docker.io)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import private_dockerd  # noqa: E402 - share/virtual-lab is not a package

IMAGE = "lava/busybox:1"
CHECK = 'test "$(hostname)" = lava && echo pass'


def rootfs() -> Path:
    images = Path(os.environ.get("LAVA_TEST_IMAGES") or Path.home() / ".cache" / "lava" / "test-images")
    subprocess.run(["sh", str(REPO / "share" / "test-images" / "build-container-rootfs.sh"), str(images)],
                   check=True, stdout=subprocess.DEVNULL)
    return images / "containers" / "busybox-rootfs.tar"


def by_hand(daemon: private_dockerd.PrivateDockerd) -> float:
    started = time.monotonic()
    out = daemon.docker("run", "--rm", "--network", "none", "--hostname", "lava", IMAGE, "sh", "-c", CHECK).stdout
    assert out.strip() == "pass", out
    return time.monotonic() - started


def job() -> dict:
    return {
        "job_name": "docker benchmark", "device_type": "docker", "visibility": "public",
        "timeouts": {"job": {"minutes": 2}, "action": {"minutes": 1}, "connection": {"seconds": 30}},
        "actions": [
            {"deploy": {"to": "docker", "image": {"name": IMAGE, "local": True}, "os": "debian"}},
            {"boot": {"method": "docker", "command": "sh", "prompts": ["/ # "]}},
            {"test": {"definitions": [{
                "from": "inline", "name": "bench", "path": "inline/bench.yaml",
                "repository": {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "bench"},
                               "run": {"steps": [f"lava-test-case hostname --shell '{CHECK}'"]}},
            }]}},
        ],
    }


def with_lava_run(daemon: private_dockerd.PrivateDockerd, work: Path) -> tuple[float, float]:
    from lava_scheduler.device_config import render_device_yaml  # deferred: needs REPO on sys.path first

    (work / "device.yaml").write_text(render_device_yaml(
        "docker-01", "{% extends 'docker.jinja2' %}\n", device_types_paths=[REPO / "device-types"]))
    (work / "job.yaml").write_text(yaml.safe_dump(job()))
    (work / "dispatcher.yaml").write_text(yaml.safe_dump(
        {"dispatcher_download_dir": str(work / "dl"), "prefix": "bench-", "docker_host": daemon.host}))
    started_wall = datetime.now().astimezone()
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir", str(work / "out"),
         "--device", str(work / "device.yaml"), "--dispatcher", str(work / "dispatcher.yaml"), str(work / "job.yaml")],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120,
    )
    total = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    for line in proc.stderr.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        if record.get("lvl") == "results" and record["msg"].get("case") == "hostname":
            assert record["msg"]["result"] == "pass"
            first = (datetime.fromisoformat(record["dt"]) - started_wall).total_seconds()
            return first, total
    raise AssertionError("no test result")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    reason = private_dockerd.available()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    sys.path.insert(0, str(REPO))
    tarball = rootfs()
    scratch = Path(tempfile.mkdtemp(prefix="lava-dk-bench-", dir="/tmp"))
    daemon = private_dockerd.PrivateDockerd(scratch)
    try:
        started = time.monotonic()
        daemon.start()
        ready = time.monotonic() - started
        daemon.import_image(tarball, IMAGE)
        imported = time.monotonic() - started - ready
        hand = [by_hand(daemon) for _ in range(runs)]
        lava = [with_lava_run(daemon, Path(tempfile.mkdtemp(prefix="run-", dir=scratch))) for _ in range(runs)]
        assert daemon.containers() == [], daemon.containers()
    finally:
        daemon.stop()
        daemon.remove_scratch()
    first = statistics.median(r[0] for r in lava)
    total = statistics.median(r[1] for r in lava)
    manual = statistics.median(hand)
    print(f"private dockerd ready            {ready:6.2f} s   (image import {imported:.2f} s)")
    print(f"docker run by hand, check done   {manual:6.2f} s   (median of {runs})")
    print(f"lava-run start to first result   {first:6.2f} s   (median of {runs})")
    print(f"lava-run whole job               {total:6.2f} s   (container removed)")
    print(f"dispatcher overhead to result    {first - manual:6.2f} s   ({first / manual:.1f}x docker run by hand)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
