"""A MultiNode group of QEMU boards through the whole lab: server, scheduler, worker, lava-run, coordinator."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.results.models import TestCase
from lava_scheduler.scheduler.health_checks import health_user
from lava_server.accounts.models import AuthToken
from tests.server.live_lab import LAVACLI, Cli, LiveLab, start_web, wait_for
from tests.server.test_e2e_jobs import finished

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dispatcher.qemu_jobs import inline, qemu_job  # noqa: E402
from testimages import images, require_qemu  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.qemu]
DEVICES = ("qemu-mn-01", "qemu-mn-02", "qemu-mn-03")

SERVER = [
    "lava-send ready ip=10.1.1.1",
    "lava-wait-all done client",
    "lava-test-case got-done --shell grep -q ':rate=42$' /tmp/lava_multi_node_cache.txt",
    "lava-sync end",
]
CLIENT = [
    "lava-wait ready",
    "lava-test-case got-ip --shell grep -q ':ip=10.1.1.1$' /tmp/lava_multi_node_cache.txt",
    "lava-send done rate=42",
    "lava-sync end",
]


def multinode_definition(server=SERVER, client=CLIENT, essential=False, clients=1, timeout=None) -> dict:
    arm64 = images().arm64
    job = qemu_job(arm64, [inline("mn-server", server)])
    client_test = qemu_job(arm64, [inline("mn-client", client)])["actions"][-1]
    deploy, boot, server_test = job["actions"]
    for action, roles in ((deploy, ["server", "client"]), (boot, ["server", "client"]), (server_test, ["server"]),
                          (client_test, ["client"])):
        next(iter(action.values()))["role"] = roles
    job["actions"] = [deploy, boot, server_test, client_test]
    context = job.pop("context")
    del job["device_type"]
    job["protocols"] = {"lava-multinode": {"timeout": timeout or {"minutes": 3}, "roles": {
        role: {"device_type": "qemu", "count": 1 if role == "server" else clients, "context": context}
        for role in ("server", "client")}}}
    if essential:
        job["protocols"]["lava-multinode"]["roles"]["server"]["essential"] = True
    return job


def start_group_lab(tmp_path, settings, health_check: dict | None = None) -> LiveLab:
    """A lab of three QEMU boards; with ``health_check``, the qemu type's health-check job (each board
    counts as checked at setup: only a board sent to a check by a job's outcome runs it)."""
    require_qemu("arm64")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    DeviceType.objects.create(name="qemu")
    Worker.objects.create(hostname="worker-qemu")
    lab.add_dispatcher_config("worker-qemu")
    for hostname in DEVICES:
        device = Device.objects.create(hostname=hostname, device_type_id="qemu", worker_host_id="worker-qemu")
        device.go_health(DeviceHealth.GOOD, "test setup")
        device.save()
        lab.write_dictionary(hostname, "{% extends 'qemu.jinja2' %}\n{% set memory = 256 %}\n")
        if health_check:
            TestJob.objects.create(submitter=health_user(), description="checked at setup", definition="{}",
                                   requested_device_type_id="qemu", actual_device=device, health_check=True,
                                   state=JobState.FINISHED, health=JobHealth.COMPLETE)
    if health_check:
        (Path(settings.HEALTH_CHECKS_PATH) / "qemu.yaml").write_text(yaml.safe_dump(health_check))
    lab.start_coordinator()
    lab.start_master()
    lab.start_scheduler()
    lab.start_worker("worker-qemu")
    return lab


def run_group(lab: LiveLab, definition: dict, user: str, while_running=None, stop=True) -> list:
    try:
        jobs = submit_job(yaml.safe_dump(definition), User.objects.create_user(user))
        if while_running is not None:
            while_running(jobs)
        return [wait_for(lambda job=job: finished(job.pk), 600, "MultiNode job finished", lab, interval=0.5)
                for job in jobs]
    finally:
        if stop:
            lab.stop_all()


def role_of(job) -> str:
    return yaml.safe_load(job.definition)["protocols"]["lava-multinode"]["role"]


def devices_idle_and_good() -> bool:
    return all((d.get_state_display(), d.get_health_display()) == ("Idle", "Good")
               for d in Device.objects.filter(pk__in=DEVICES))


def test_a_server_and_a_client_board_exchange_messages_through_the_lab(tmp_path, settings):
    lab = start_group_lab(tmp_path, settings)
    try:
        done = run_group(lab, multinode_definition(), "mallory", stop=False)
        check_sub_jobs_with_lavacli(lab, tmp_path, done)
    finally:
        lab.stop_all()
    logs = lab.logs()
    for job in done:
        assert job.get_health_display() == "Complete", logs
    cases = {(c.suite.name, c.name): c.get_result_display() for c in TestCase.objects.filter(suite__job__in=done)}
    assert cases[("0_mn-server", "got-done")] == "pass", cases
    assert cases[("0_mn-client", "got-ip")] == "pass", cases
    assert "finished, forgotten" in logs
    assert devices_idle_and_good()
    # the group's page: both members, and the messages each one's lava-run recorded
    user = User.objects.get(username="mallory")
    client = Client()
    client.force_login(user)
    page = client.get(f"/scheduler/job/{done[1].sub_id}/multinode")
    assert page.status_code == 200
    assert sorted(m["role"] for m in page.context["members"]) == ["client", "server"]
    calls = {(c["role"], c["call"], c["message_id"]): c for c in page.context["calls"]}
    assert calls[("server", "lava-send", "ready")]["sent"] == "ip=10.1.1.1"
    assert calls[("client", "lava-wait", "ready")]["received"].endswith(":ip=10.1.1.1")
    assert calls[("server", "lava-wait-all", "done")]["waitrole"] == "client"
    assert {c["result"] for c in calls.values()} == {"pass"}


def check_sub_jobs_with_lavacli(lab: LiveLab, tmp_path, done: list) -> None:
    """``lavacli jobs show/logs <id>.<n>`` per sub-job, as with the reference (XML-RPC takes sub ids)."""
    if LAVACLI is None:
        return
    uri = start_web(lab)
    cli = Cli(tmp_path / "home", uri)
    cli.identity("default", "mallory", AuthToken.objects.create(user=User.objects.get(username="mallory")).secret)
    for job in done:
        assert job.sub_id and job.sub_id.endswith((".0", ".1"))
        shown = cli("jobs", "show", job.sub_id).stdout
        assert f"id          : {job.sub_id}" in shown and "Health      : Complete" in shown, shown
        logs = yaml.safe_load(cli("jobs", "logs", job.sub_id, "--raw", "--no-follow").stdout)
        assert any(f"as {role_of(job)}" in str(r.get("msg")) for r in logs), logs[:20]


def test_a_failing_essential_server_cancels_both_clients(tmp_path, settings):
    lab = start_group_lab(tmp_path, settings)
    definition = multinode_definition(server=["lava-sync started", "lava-test-raise server-broke"],
                                      client=["lava-sync started", "lava-wait never-sent"], essential=True, clients=2)
    done = run_group(lab, definition, "trent")
    (server,) = [job for job in done if role_of(job) == "server"]
    clients = [job for job in done if role_of(job) == "client"]
    assert server.get_health_display() == "Incomplete" and "server-broke" in server.error_msg
    assert len(clients) == 2
    for client in clients:
        assert client.get_health_display() == "Canceled", lab.logs()
        assert "essential role server of its MultiNode group" in client.failure_comment
        # canceled, not timed out: well before the 3 minutes of its MultiNode timeout
        assert (client.end_time - server.end_time).total_seconds() < 60
    assert devices_idle_and_good()


def test_a_member_whose_lava_run_is_killed_ends_the_group_within_its_timeout(tmp_path, settings):
    health_check = qemu_job(images().arm64)
    health_check["job_name"] = "qemu health check"
    lab = start_group_lab(tmp_path, settings, health_check)
    definition = multinode_definition(server=["lava-sync started", "sleep 600"],
                                      client=["lava-sync started", "lava-wait ready"], timeout={"seconds": 45})

    def kill_the_servers_lava_run(jobs) -> None:
        (server,) = [job for job in jobs if role_of(job) == "server"]
        wait_for(lambda: sync_done(jobs), 600, "group synced", lab, interval=1)
        pid = wait_for(lambda: lava_run_pid(server.pk), 60, "the server's lava-run", lab, interval=0.5)
        os.kill(pid, signal.SIGKILL)

    try:
        done = run_group(lab, definition, "victor", while_running=kill_the_servers_lava_run, stop=False)
        (server,) = [job for job in done if role_of(job) == "server"]
        (client,) = [job for job in done if role_of(job) == "client"]
        states = {role_of(job): (job.get_health_display(), job.error_type, job.error_msg, job.failure_comment)
                  for job in done}
        assert server.get_health_display() == "Incomplete", states
        assert "lava-run ended without a result (killed by SIGKILL" in server.error_msg, states
        assert client.get_health_display() == "Incomplete", states
        assert client.error_type == "MultinodeTimeout", states
        assert "lava-wait ready: no answer within 45 s (waiting for message 'ready' from" in client.error_msg
        # within its MultiNode timeout of the kill (plus the time to end lava-run and report)
        assert (client.end_time - server.end_time).total_seconds() < 45 + 30, states
        # a lava-run that died without a result is a Bug, an infrastructure error by the reference's rules:
        # the killed member's device goes to Unknown and its health check brings it back Good
        assert Device.objects.get(pk=client.actual_device_id).get_health_display() == "Good"
        wait_for(devices_idle_and_good, 300, "every device Idle and Good", lab, interval=1)
    finally:
        lab.stop_all()
    (check,) = TestJob.objects.filter(health_check=True, actual_device=server.actual_device_id, start_time__isnull=False)
    assert check.get_health_display() == "Complete" and check.submit_time > server.end_time
    reasons = [t.reason for t in Device.objects.get(pk=server.actual_device_id).transitions.filter(field="health")]
    assert any(f"job {server.pk} failed with an infrastructure error" in r for r in reasons), reasons
    assert subprocess.run(["pgrep", "-f", f"qemu-system.*{tmp_path}"], capture_output=True).returncode != 0


def sync_done(jobs) -> bool:
    return all(TestCase.objects.filter(suite__job_id=job.pk, name="multinode-sync-started").exists() for job in jobs)


def lava_run_pid(job_id: int) -> int | None:
    found = subprocess.run(["pgrep", "-f", "--", f"--job-id {job_id} --output-dir"], capture_output=True,
                           text=True).stdout.split()
    return int(found[0]) if found else None
