"""The optional docker-01 board: ``./lab.sh --boards docker-01`` runs a private dockerd with the lab.

The board's health check must make it Good, the sample job (share/lab/jobs/docker.yaml) must
complete on it, and the lab's stop must leave no dockerd, container, link, firewall rule or mount.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from testimages import container_rootfs

from .lab_client import LabClient
from .test_lab import REPO_ROOT, RunningLab, finished, wait_for

sys.path.insert(0, str(REPO_ROOT / "share" / "virtual-lab"))
import private_dockerd  # noqa: E402 - share/virtual-lab is not a package

pytestmark = [pytest.mark.lab]


def host_state() -> dict[str, str]:
    def run(*argv: str) -> str:
        return subprocess.run(list(argv), capture_output=True, text=True, check=False).stdout

    mounts = [line for line in Path("/proc/mounts").read_text().splitlines() if "lava" in line]
    return {"links": run("ip", "-o", "link"), "iptables": run("iptables", "-S"), "mounts": "\n".join(mounts),
            "forwarding": Path("/proc/sys/net/ipv4/ip_forward").read_text(),
            "cgroups": " ".join(sorted(str(p) for p in Path("/sys/fs/cgroup").glob("*/lava-dockerd-*")))}


def test_docker_board_health_check_and_sample_job(tmp_path):
    reason = private_dockerd.available()
    if reason:
        pytest.skip(reason)
    container_rootfs()  # built now rather than inside the lab's start-up time
    before = host_state()
    lab = RunningLab(tmp_path, None)
    lab.start(300, args=("--boards", "docker-01"))
    try:
        assert "dockerd: unix://" in lab.output()
        user, token = lab.credentials()
        client = LabClient(lab.url, user, token, lab.env, lab.state)
        wait_for(lambda: client.device_health("docker-01") == "Good", 120, "docker-01 Good", lab)
        sample = int(re.search(r"sample job (\d+) submitted \(docker\.yaml\)", lab.output()).group(1))
        job = wait_for(lambda: finished(client, sample), 120, "the sample job to finish", lab)
        assert job["health"] == "Complete", job
        results = {(r["msg"]["definition"], r["msg"]["case"]): r["msg"]["result"]
                   for r in client.log(sample) if r.get("lvl") == "results"}
        assert results[("0_smoke", "busybox")] == "pass"
    finally:
        assert lab.stop() == 0
    assert lab.leftovers() == []
    assert host_state() == before
    assert (lab.state / "dockerd" / "data").is_dir()  # the image cache stays for the next start
