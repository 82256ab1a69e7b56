"""A MultiNode group of two QEMU boards through the whole lab: server, scheduler, worker, lava-run, coordinator."""

import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User

from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.results.models import TestCase
from tests.server.live_lab import LiveLab, wait_for
from tests.server.test_e2e_jobs import finished

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dispatcher.qemu_jobs import inline, qemu_job  # noqa: E402
from testimages import images, require_qemu  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.qemu]
DEVICES = ("qemu-mn-01", "qemu-mn-02")

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


def multinode_definition(server=SERVER, client=CLIENT, essential=False) -> dict:
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
    job["protocols"] = {"lava-multinode": {"timeout": {"minutes": 3}, "roles": {
        role: {"device_type": "qemu", "count": 1, "context": context} for role in ("server", "client")}}}
    if essential:
        job["protocols"]["lava-multinode"]["roles"]["server"]["essential"] = True
    return job


def start_group_lab(tmp_path, settings) -> LiveLab:
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
    lab.start_coordinator()
    lab.start_master()
    lab.start_scheduler()
    lab.start_worker("worker-qemu")
    return lab


def run_group(lab: LiveLab, definition: dict, user: str) -> list:
    try:
        jobs = submit_job(yaml.safe_dump(definition), User.objects.create_user(user))
        assert len(jobs) == 2
        return [wait_for(lambda job=job: finished(job.pk), 600, "MultiNode job finished", lab, interval=0.5)
                for job in jobs]
    finally:
        lab.stop_all()


def devices_idle_and_good() -> bool:
    return all((d.get_state_display(), d.get_health_display()) == ("Idle", "Good")
               for d in Device.objects.filter(pk__in=DEVICES))


def test_a_server_and_a_client_board_exchange_messages_through_the_lab(tmp_path, settings):
    lab = start_group_lab(tmp_path, settings)
    done = run_group(lab, multinode_definition(), "mallory")
    logs = lab.logs()
    for job in done:
        assert job.get_health_display() == "Complete", logs
    cases = {(c.suite.name, c.name): c.get_result_display() for c in TestCase.objects.filter(suite__job__in=done)}
    assert cases[("0_mn-server", "got-done")] == "pass", cases
    assert cases[("0_mn-client", "got-ip")] == "pass", cases
    assert "finished, forgotten" in logs
    assert devices_idle_and_good()


def test_a_failing_essential_server_cancels_its_client(tmp_path, settings):
    lab = start_group_lab(tmp_path, settings)
    definition = multinode_definition(server=["lava-sync started", "lava-test-raise server-broke"],
                                      client=["lava-sync started", "lava-wait never-sent"], essential=True)
    done = run_group(lab, definition, "trent")
    health = {job.definition.count("role: server") > 0: job for job in done}
    server, client = health[True], health[False]
    assert server.get_health_display() == "Incomplete" and "server-broke" in server.error_msg
    assert client.get_health_display() == "Canceled", lab.logs()
    assert "essential role server of its MultiNode group" in client.failure_comment
    # canceled, not timed out: well before the 3 minutes of its MultiNode timeout
    assert (client.end_time - server.end_time).total_seconds() < 60
    assert devices_idle_and_good()
