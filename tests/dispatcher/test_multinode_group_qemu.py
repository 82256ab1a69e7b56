"""A MultiNode group of three QEMU boards (a server, two clients) on a network of their own, run by
three lava-run processes against our coordinator and against Debian's installed lava-coordinator."""

from __future__ import annotations

import subprocess

import pytest
from coordinator_daemon import INSTALLED_DEBIAN_COORDINATOR, Daemon, InstalledDebianDaemon
from testimages import images, network_initramfs, require_qemu

from .helpers import job_result, parse_stream, results
from .qemu_jobs import inline, qemu_job
from .test_multinode_qemu import start_lava_run

pytestmark = pytest.mark.qemu

ROLES = {"31": "server", "32": "client", "33": "client"}
LATE_CLIENT, IMPATIENT_CLIENT = "32", "33"
CACHE = "/tmp/lava_multi_node_cache.txt"
SERVER = [
    "lava-network broadcast eth0",
    "lava-network collect eth0",
    "mkdir -p /tmp/www && echo hello-from-server > /tmp/www/index.html && httpd -p 8080 -h /tmp/www",
    "lava-send ready ip=$(lava-echo-ipv4 eth0) port=8080",
    "lava-wait-all done client",
    f"lava-test-case got-both-clients --shell 'grep -q ^32:rate=32$ {CACHE} && grep -q ^33:rate=33$ {CACHE}'",
    "lava-sync end",
    "sleep 70",  # still in the group while the impatient client waits: it must time out, not be told
]
CLIENT = [
    "lava-network broadcast eth0",
    "lava-network collect eth0",
    "lava-wait ready",
    f"lava-test-case got-ip --shell grep -q '^31:ip=10\\.' {CACHE}",
    "lava-test-case same-ip --shell test \"$(lava-network query 31 ipv4)\" = \"$(sed -n 's/^31:ip=//p' " + CACHE + ")\"",
    "lava-test-case reach-server --shell 'wget -q -O - http://$(lava-network query 31 ipv4):8080/ | grep -q hello-from-server'",
    "lava-send done rate=$(lava-self)",
]


def sub_job(job_id: str, target_group: str) -> dict:
    role = ROLES[job_id]
    steps = SERVER if role == "server" else list(CLIENT)
    if job_id == LATE_CLIENT:
        steps += ["sleep 15", "lava-sync end"]  # the others must be held until it arrives
    elif job_id == IMPATIENT_CLIENT:
        steps += ["lava-sync end", "lava-wait never-sent"]  # times out: its job ends Incomplete
    job = qemu_job(images().x86_64, [inline(f"mn-{role}", steps)], login=False, minutes=10)
    deploy, boot = job["actions"][0]["deploy"], job["actions"][1]["boot"]
    deploy["images"]["ramdisk"]["url"] = f"file://{network_initramfs()}"
    # action-level requests: the clients boot once the server's deploy is done, and learn its image
    if role == "server":
        deploy["protocols"] = {"lava-multinode": [
            {"action": "deploy-tmpfs", "request": "lava-send", "messageID": "deployed",
             "message": {"image": "initramfs-net"}}]}
    else:
        boot["protocols"] = {"lava-multinode": [
            {"action": "execute-qemu", "request": "lava-wait", "messageID": "deployed",
             "message": {"image": "$IMAGE"}}]}
    job["protocols"] = {"lava-multinode": {
        "target_group": target_group, "role": role, "roles": ROLES, "group_size": 3, "sub_id": int(job_id) - 31,
        "network": True, "timeout": {"seconds": 60 if job_id == IMPATIENT_CLIENT else 240}}}
    return job


@pytest.fixture(params=["ours", "debian"])
def coordinator(request, tmp_path):
    if request.param == "debian" and not INSTALLED_DEBIAN_COORDINATOR.exists():
        pytest.skip(f"Debian's lava-coordinator is not installed ({INSTALLED_DEBIAN_COORDINATOR})")
    daemon = (Daemon if request.param == "ours" else InstalledDebianDaemon)(tmp_path)
    daemon.start()
    yield daemon
    daemon.stop()


def by_case(records: list[dict]) -> dict[tuple[str, str], str]:
    return {(r["definition"], r["case"]): r["result"] for r in results(records)}


def when(records: list[dict], text: str) -> str:
    return next(r["dt"] for r in records if r["lvl"] != "results" and text in str(r["msg"]))


def test_a_server_and_two_clients_on_their_own_network(tmp_path, coordinator):
    require_qemu("x86_64")
    conf = coordinator.config_for_clients(tmp_path / "lava-coordinator.conf")
    group = f"three-{coordinator.port}"
    started = {job_id: start_lava_run(tmp_path, job_id, sub_job(job_id, group), conf) for job_id in ROLES}
    records = {}
    for job_id, (proc, stderr) in started.items():
        proc.wait(900)
        records[job_id] = parse_stream(stderr.read_text())
    log = {job_id: [r["msg"] for r in recs][-40:] for job_id, recs in records.items()}
    # the server and the late client complete, with every case passing
    server_cases = by_case(records["31"])
    if isinstance(coordinator, InstalledDebianDaemon):
        # the reference's lava_wait_all with a role answers once the role's first member has sent:
        # whether the second client's data is there yet is a race
        assert server_cases.pop(("0_mn-server", "got-both-clients")) in ("pass", "fail")
    else:
        assert server_cases[("0_mn-server", "got-both-clients")] == "pass"
    for job_id, cases in (("31", server_cases), (LATE_CLIENT, by_case(records[LATE_CLIENT]))):
        assert job_result(records[job_id])["result"] == "pass", log[job_id]
        assert set(cases.values()) == {"pass"}, cases
    for job_id in (LATE_CLIENT, IMPATIENT_CLIENT):
        cases = by_case(records[job_id])
        for case in ("got-ip", "same-ip", "reach-server"):
            assert cases[("0_mn-client", case)] == "pass", (job_id, cases)
        assert cases[("lava", "multinode-wait-deployed")] == "pass"
        assert any("MultiNode: $IMAGE = initramfs-net" in str(r["msg"]) for r in records[job_id])
    # lava-sync held the server and the impatient client until the late client came
    late_arrival = when(records[LATE_CLIENT], "MultiNode: lava-sync end")
    for job_id in ("31", IMPATIENT_CLIENT):
        released = next(r["dt"] for r in records[job_id]
                        if r["lvl"] == "results" and r["msg"].get("case") == "multinode-sync-end")
        assert released >= late_arrival, (job_id, released, late_arrival)
    # the impatient client: Incomplete, a MultiNode timeout naming the message
    result = job_result(records[IMPATIENT_CLIENT])
    assert result["result"] == "fail" and result["error_type"] == "MultinodeTimeout", result
    assert "lava-wait never-sent: no answer within 60 s" in result["error_msg"]
    assert started[IMPATIENT_CLIENT][0].returncode == 1
    assert by_case(records[IMPATIENT_CLIENT])[("lava", "multinode-wait-never-sent")] == "fail"
    assert subprocess.run(["pgrep", "-f", f"qemu-system.*{tmp_path}"], capture_output=True).returncode != 0
