"""A MultiNode group's queue timeout through the lab's real processes (scheduler, master, worker) and lavacli.

No board boots: one member holds its device (Scheduling) while the other waits for a board that is
Bad; the queue timeout must cancel both, hand the held device back Idle and Good, and say why.
"""

import pytest
import yaml
from django.contrib.auth.models import User

from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth, DeviceState
from lava_server.accounts.models import AuthToken
from tests.server.live_lab import LAVACLI, Cli, LiveLab, start_web, wait_for
from tests.server.test_e2e_jobs import finished

pytestmark = pytest.mark.django_db(transaction=True)

GROUP = {
    "job_name": "waits for a second board",
    "visibility": "public",
    "timeouts": {"job": {"minutes": 5}, "queue": {"seconds": 15}},
    "protocols": {"lava-multinode": {"timeout": {"minutes": 1}, "roles": {
        "server": {"device_type": "qemu", "count": 1}, "client": {"device_type": "qemu", "count": 1}}}},
    "actions": [{"boot": {"role": ["server", "client"], "method": "qemu", "media": "tmpfs", "prompts": ["# "]}}],
}


def test_a_group_that_cannot_start_is_canceled_whole_by_its_queue_timeout(tmp_path, settings):
    if LAVACLI is None:
        pytest.skip("lavacli is not installed in the venv")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    DeviceType.objects.create(name="qemu")
    Worker.objects.create(hostname="worker-qemu")
    lab.add_dispatcher_config("worker-qemu")
    for hostname, health in (("qemu-q-01", DeviceHealth.GOOD), ("qemu-q-02", DeviceHealth.BAD)):
        device = Device.objects.create(hostname=hostname, device_type_id="qemu", worker_host_id="worker-qemu")
        device.go_health(health, "test setup")
        device.save()
        lab.write_dictionary(hostname, "{% extends 'qemu.jinja2' %}\n")
    user = User.objects.create_user("quentin")
    try:
        lab.start_master()
        lab.start_scheduler()
        lab.start_worker("worker-qemu")
        jobs = submit_job(yaml.safe_dump(GROUP), user)
        # one member holds the only Good board while the group waits for a second one
        wait_for(lambda: Device.objects.filter(pk="qemu-q-01", state=DeviceState.RESERVED).exists(), 60,
                 "a member reserving qemu-q-01", lab, interval=0.5)
        done = [wait_for(lambda job=job: finished(job.pk), 90, "the queue timeout", lab, interval=0.5) for job in jobs]
        wait_for(lambda: Device.objects.get(pk="qemu-q-01").get_state_display() == "Idle", 30, "the board freed", lab)
        cli = Cli(tmp_path / "home", start_web(lab))
        cli.identity("default", "quentin", AuthToken.objects.create(user=user).secret)
        for job in done:
            shown = cli("jobs", "show", job.sub_id).stdout
            assert f"id          : {job.sub_id}" in shown and "Health      : Canceled" in shown, shown
            assert "queue timeout: not started within 15 s" in shown, shown
    finally:
        lab.stop_all()
    # canceled before it ran: not a fault of the board, which stays Good
    device = Device.objects.get(pk="qemu-q-01")
    assert (device.get_state_display(), device.get_health_display()) == ("Idle", "Good")
