"""The lab's ssh host board (ssh-host-01): a lab with only that board, its health check, the sample job,
and nothing left once the lab stops."""

from __future__ import annotations

import os
import sys
import time

import pytest

from .lab_client import LabClient
from .postgres import scratch_database
from .test_lab import REPO_ROOT, RunningLab, finished, free_ports, log_has, wait_for

sys.path.insert(0, str(REPO_ROOT / "share" / "virtual-lab"))
from ssh_host import sshd_available  # noqa: E402

SAMPLE = REPO_ROOT / "share" / "lab" / "jobs" / "ssh-host.yaml"


@pytest.fixture(scope="module")
def ssh_lab(tmp_path_factory):
    why_not = sshd_available()
    if why_not:
        pytest.skip(why_not)
    root = tmp_path_factory.mktemp("lab-ssh")
    with scratch_database(os.environ.get("LAVA_DATABASE_URL")) as database_url:
        running = RunningLab(root, database_url)
        running.env["LAVA_LAB_SSH_PORT"] = str(free_ports(1)[0])
        running.start(args=("--no-samples", "--boards", "ssh-host-01"))
        try:
            yield running
        finally:
            assert running.stop() == 0
            assert running.leftovers() == [], running.leftovers()


def test_ssh_host_board_health_check_and_sample_job(ssh_lab):
    user, token = ssh_lab.credentials()
    client = LabClient(ssh_lab.url, user, token, ssh_lab.env, ssh_lab.state)
    started = time.monotonic()
    wait_for(lambda: client.device_health("ssh-host-01") == "Good", 180, "ssh-host-01 Good", ssh_lab)
    job_id = client.submit(SAMPLE)
    job = wait_for(lambda: finished(client, job_id), 180, f"job {job_id} finished", ssh_lab)
    assert (job["health"], job["device"]) == ("Complete", "ssh-host-01"), ssh_lab.output()
    assert log_has(client, job_id, r"copying the overlay to root@127\.0\.0\.1")
    print(f"\nssh-host-01: health check and sample job Complete in {time.monotonic() - started:.1f} s")
