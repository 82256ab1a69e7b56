"""Admin commands of a shared lab: groups and their permissions, users update, maintenance."""

import io
import subprocess
import sys

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth, WorkerHealth
from lava_scheduler.permissions.models import GroupDevicePermission, GroupDeviceTypePermission
from lava_scheduler.permissions.rules import (
    CHANGE,
    SUBMIT,
    VIEW,
    device_allows,
    device_type_allows,
    worker_allows,
)
from tests.conftest import REPO_ROOT
from tests.server.live_lab import LiveLab


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def printed(capsys, *args) -> str:
    """Output of a listing command (its rows go to sys.stdout)."""
    capsys.readouterr()
    call_command(*args)
    return capsys.readouterr().out


def test_groups_members_and_permissions(user, device, capsys):
    User.objects.create_user("bob")
    assert "added" in run("groups", "add", "team-a", "--users", "alice")
    run("groups", "members", "team-a", "--add", "bob")
    assert "team-a,alice bob" in printed(capsys, "groups", "list", "--csv")
    assert device_type_allows(User.objects.get(username="bob"), "qemu", SUBMIT)

    run("groups", "perms", "add", "team-a", "submit_to_devicetype", "--device-type", "qemu")
    run("groups", "perms", "add", "team-a", "view_device", "--device", "qemu-01")
    assert GroupDeviceTypePermission.objects.filter(group__name="team-a", device_type="qemu").count() == 1
    listed = printed(capsys, "groups", "perms", "list", "--csv")
    assert "team-a,submit_to_devicetype,device-type,qemu" in listed and "team-a,view_device,device,qemu-01" in listed
    outsider = User.objects.create_user("carol")
    assert not device_type_allows(outsider, "qemu", SUBMIT)
    run("groups", "members", "team-a", "--remove", "bob")
    assert not device_type_allows(User.objects.get(username="bob"), "qemu", SUBMIT)

    with pytest.raises(CommandError, match="expected one of view_device"):
        run("groups", "perms", "add", "team-a", "submit_to_devicetype", "--device", "qemu-01")
    with pytest.raises(CommandError, match="no device type named 'nope'|device type"):
        run("groups", "perms", "add", "team-a", "view_devicetype", "--device-type", "nope")
    run("groups", "perms", "add", "team-a", "change_worker", "--worker", "worker-1")
    assert worker_allows(User.objects.get(username="alice"), "worker-1", CHANGE)
    assert not worker_allows(outsider, "worker-1", CHANGE)
    run("groups", "perms", "rm", "team-a", "view_device", "--device", "qemu-01")
    with pytest.raises(CommandError, match="has no view_device on qemu-01"):
        run("groups", "perms", "rm", "team-a", "view_device", "--device", "qemu-01")
    run("groups", "rm", "team-a")
    assert not Group.objects.exists() and not GroupDevicePermission.objects.exists()
    assert device_type_allows(outsider, "qemu", SUBMIT)  # no rows left: open again


def test_users_update(user):
    Group.objects.create(name="team-a")
    run("users", "update", "alice", "--no-active", "--staff", "--groups", "team-a", "--email", "a@lab.example")
    alice = User.objects.get(username="alice")
    assert (alice.is_active, alice.is_staff, alice.is_superuser, alice.email) == (False, True, False, "a@lab.example")
    assert list(alice.groups.values_list("name", flat=True)) == ["team-a"]
    run("users", "update", "alice", "--active", "--superuser", "--groups", "", "--passwd", "new-password")
    alice = User.objects.get(username="alice")
    assert alice.is_active and alice.is_superuser and not alice.groups.exists() and alice.check_password("new-password")
    with pytest.raises(CommandError, match="no group"):
        run("users", "update", "alice", "--groups", "nope")


def test_maintenance_of_the_lab_a_worker_and_a_device_type(user, device, worker):
    other_type = DeviceType.objects.create(name="arm")
    other_worker = Worker.objects.create(hostname="worker-2")
    arm = Device.objects.create(hostname="arm-01", device_type=other_type, worker_host=other_worker)
    arm.go_health(DeviceHealth.GOOD, "setup")
    arm.save()
    job = TestJob.objects.create(submitter=user, requested_device_type=device.device_type, definition="job_name: x")
    job.go_state_scheduled(Device.objects.get(pk="qemu-01"))
    job.go_state_running()

    assert "would put 1 device(s) of device type arm" in run("maintenance", "on", "--device-type", "arm", "--dry-run")
    assert Device.objects.get(pk="arm-01").health == DeviceHealth.GOOD
    out = run("maintenance", "on", "--worker", "worker-1", "--reason", "rack 3 rewiring")
    assert "put 1 device(s) of worker worker-1 into maintenance: qemu-01" in out
    assert Device.objects.get(pk="qemu-01").health == DeviceHealth.MAINTENANCE
    assert Worker.objects.get(pk="worker-1").health == WorkerHealth.MAINTENANCE
    assert TestJob.objects.get(pk=job.pk).state == JobState.RUNNING  # running jobs finish by default
    assert Device.objects.get(pk="qemu-01").transitions.filter(reason="rack 3 rewiring").exists()

    out = run("maintenance", "on", "--cancel-running")
    assert "arm-01" in out and f"canceled job(s): {job.pk}" in out
    assert TestJob.objects.get(pk=job.pk).state == JobState.CANCELING
    out = run("maintenance", "off")
    assert "back in service" in out
    assert {d.health for d in Device.objects.all()} == {DeviceHealth.UNKNOWN}
    with pytest.raises(CommandError, match="no worker 'nope'"):
        run("maintenance", "on", "--worker", "nope")


@pytest.mark.django_db(transaction=True)
def test_add_device_names_its_owning_groups(tmp_path):
    lab = LiveLab(tmp_path)
    Group.objects.create(name="team-a")
    command = [sys.executable, str(REPO_ROOT / "share" / "add_device.py"), "qemu", "qemu-09", "-w", "worker-9"]
    refused = subprocess.run([*command, "-g", "nobody"], env=lab.env, capture_output=True, text=True)
    assert refused.returncode == 1 and "no group(s) nobody" in refused.stderr
    added = subprocess.run([*command, "-g", "team-a"], env=lab.env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    assert "owned by group(s) team-a" in added.stdout
    rows = set(GroupDevicePermission.objects.filter(device="qemu-09").values_list("group__name", "permission"))
    assert rows == {("team-a", "view_device"), ("team-a", "submit_to_device"), ("team-a", "change_device")}
    outsider = User.objects.create_user("outsider")
    assert not device_allows(outsider, "qemu-09", VIEW)


def test_maintenance_from_the_admin_site(client, user, device, worker):
    admin_user = User.objects.create_superuser("root-admin", password="x")
    client.force_login(admin_user)
    response = client.post("/admin/lab/worker/", {"action": "maintenance_on", "_selected_action": [worker.pk]},
                           follow=True)
    assert response.status_code == 200 and "device(s) into maintenance" in response.content.decode()
    device.refresh_from_db()
    worker.refresh_from_db()
    assert (device.health, worker.health) == (DeviceHealth.MAINTENANCE, WorkerHealth.MAINTENANCE)
    assert "by root-admin" in device.transitions.latest("pk").reason
    client.post("/admin/lab/device/", {"action": "devices_maintenance_off", "_selected_action": [device.pk]})
    device.refresh_from_db()
    assert device.health == DeviceHealth.UNKNOWN  # a health check runs before any job
    client.post("/admin/lab/devicetype/", {"action": "maintenance_on", "_selected_action": [device.device_type_id]})
    device.refresh_from_db()
    assert device.health == DeviceHealth.MAINTENANCE
