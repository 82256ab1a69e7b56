"""MultiNode end to end: two lava-run processes, two QEMU boards, our coordinator, messages between them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from coordinator_daemon import Daemon
from testimages import images, require_qemu

from .helpers import HERE, REPO, job_result, parse_stream, results, write_dispatcher_config
from .qemu_jobs import inline, qemu_job

pytestmark = pytest.mark.qemu

ROLES = {"21": "server", "22": "client"}
STEPS = {
    "server": [
        "lava-send ready ip=10.1.1.1 port=5201",
        "lava-wait-all done client",
        "lava-test-case got-rate --shell grep -q '^22:rate=42$' /tmp/lava_multi_node_cache.txt",
        "lava-sync end",
    ],
    "client": [
        "lava-wait ready",
        "lava-test-case got-ip --shell grep -q '^21:ip=10.1.1.1$' /tmp/lava_multi_node_cache.txt",
        "lava-test-case group --shell test \"$(lava-group server)\" = 21",
        "lava-send done rate=42",
        "lava-sync end",
    ],
}


def sub_job(job_id: str, steps: dict[str, list[str]]) -> dict:
    role = ROLES[job_id]
    job = qemu_job(images().x86_64, [inline(f"mn-{role}", steps[role])])
    for action in job["actions"]:
        next(iter(action.values()))["role"] = [role]
    # what the server writes into each sub-job of the group
    job["protocols"] = {"lava-multinode": {
        "target_group": "e2e-group", "role": role, "roles": ROLES, "group_size": 2, "sub_id": int(job_id) - 21,
        "timeout": {"minutes": 2}}}
    return job


def start_lava_run(tmp_path, job_id: str, job: dict, coordinator_conf) -> tuple[subprocess.Popen, object]:
    home = tmp_path / f"job-{job_id}"
    home.mkdir()
    (home / "job.yaml").write_text(yaml.safe_dump(job))
    dispatcher = write_dispatcher_config(home, {"coordinator_config": str(coordinator_conf)})
    cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", job_id, "--output-dir", str(home / "out"),
           "--device", str(HERE / "devices" / "qemu-x86_64.yaml"), "--dispatcher", str(dispatcher), str(home / "job.yaml")]
    stderr = (home / "stderr").open("w")
    proc = subprocess.Popen(cmd, stderr=stderr, stdout=subprocess.DEVNULL, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    return proc, home / "stderr"


def run_group(tmp_path, steps):
    daemon = Daemon(tmp_path)
    daemon.start()
    try:
        conf = daemon.config_for_clients(tmp_path / "lava-coordinator.conf")
        started = {job_id: start_lava_run(tmp_path, job_id, sub_job(job_id, steps), conf) for job_id in ROLES}
        records = {}
        for job_id, (proc, stderr) in started.items():
            proc.wait(600)
            records[job_id] = parse_stream(stderr.read_text())
        return records, daemon.log.read_text()
    finally:
        daemon.stop()


def test_two_qemu_boards_exchange_a_message_and_sync(tmp_path):
    require_qemu("x86_64")
    records, coordinator_log = run_group(tmp_path, STEPS)
    for job_id, role in ROLES.items():
        found = {(r["definition"], r["case"]): r["result"] for r in results(records[job_id])}
        assert job_result(records[job_id])["result"] == "pass", [r["msg"] for r in records[job_id]][-30:]
        assert found[("lava", f"0_mn-{role}")] == "pass"
        assert set(found.values()) == {"pass"}, found
    client = {(r["definition"], r["case"]) for r in results(records["22"])}
    assert {("0_mn-client", "got-ip"), ("0_mn-client", "group")} <= client
    assert ("0_mn-server", "got-rate") in {(r["definition"], r["case"]) for r in results(records["21"])}
    assert any("<LAVA_WAIT_COMPLETE 21:ip=10.1.1.1 21:port=5201>" in str(r["msg"]) for r in records["22"])
    assert "group e2e-group: finished, forgotten" in coordinator_log


def test_a_member_killed_mid_group_ends_the_other_with_a_multinode_timeout(tmp_path):
    require_qemu("x86_64")
    steps = {"server": ["sleep 600"], "client": ["lava-wait ready"]}
    # kill -9 the server's lava-run once the whole group has joined: the client must not hang
    daemon = Daemon(tmp_path)
    daemon.start()
    try:
        conf = daemon.config_for_clients(tmp_path / "lava-coordinator.conf")
        server_job, client_job = sub_job("21", steps), sub_job("22", steps)
        client_job["protocols"]["lava-multinode"]["timeout"] = {"seconds": 20}
        server, _ = start_lava_run(tmp_path, "21", server_job, conf)
        client, client_log = start_lava_run(tmp_path, "22", client_job, conf)
        deadline = time.monotonic() + 300
        while "group e2e-group: 22 registered" not in daemon.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        client.wait(300)
    finally:
        daemon.stop()
    records = parse_stream(client_log.read_text())
    result = job_result(records)
    assert result["error_type"] == "MultinodeTimeout", result
    assert "lava-wait ready: no answer within 20 s (waiting for message 'ready' from 21 (server), 22 (client))" in result["error_msg"]
    assert client.returncode == 1
    assert subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True).returncode != 0  # no QEMU left
