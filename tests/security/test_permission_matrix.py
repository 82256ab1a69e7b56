"""Group permissions on device types and devices: the permission matrix.

One lab, two restrictions: device type ``secret`` (its device ``secret-01``)
is for group ``team-a`` (view and submit), device ``qemu-02`` of the open
``qemu`` type is for group ``rack-owners`` (view, submit and change).
Five callers (anonymous, a member of team-a, a non-member, a rack owner, an
admin) against submission, scheduling, job pages and every API: web, REST
and XML-RPC all answer from the one rule.
"""

import xmlrpc.client

import pytest
import yaml
from django.contrib.auth.models import Group, User
from django.test import Client

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.submission import SubmissionError, submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.permissions.models import (
    GroupDevicePermission,
    GroupDeviceTypePermission,
    GroupWorkerPermission,
)
from lava_scheduler.scheduler.core import schedule
from lava_server.accounts.models import AuthToken
from tests.server.test_xmlrpc import basic, proxy

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "member", "non_member", "owner", "admin")
# who may see / submit to what
SEES_SECRET = {"member", "admin"}
SEES_QEMU_02 = {"owner", "admin"}
SUBMITS_SECRET = {"member", "admin"}


def job_text(device_type: str, device: str | None = None, name: str = "matrix job") -> str:
    job = {
        "job_name": name, "device_type": device_type, "visibility": "public",
        "timeouts": {"job": {"minutes": 5}},
        "actions": [{"boot": {"method": "minimal", "prompts": ["# "]}}],
    }
    if device:
        job["device"] = device
    return yaml.safe_dump(job, sort_keys=False)


@pytest.fixture
def lab(settings, tmp_path):
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    settings.DEVICES_PATH.mkdir()
    settings.HEALTH_CHECKS_PATH.mkdir()
    worker = Worker.objects.create(hostname="worker-1")
    worker.go_state_online("2026.11")
    worker.save()
    for name in ("qemu", "secret"):
        DeviceType.objects.create(name=name)
    for hostname, device_type in (("qemu-01", "qemu"), ("qemu-02", "qemu"), ("secret-01", "secret")):
        device = Device.objects.create(hostname=hostname, device_type_id=device_type, worker_host=worker)
        device.go_health(DeviceHealth.GOOD, "test setup")
        device.save()
        (settings.DEVICES_PATH / f"{hostname}.jinja2").write_text("{% extends 'qemu.jinja2' %}\n")
    team_a, owners, team_b = (Group.objects.create(name=n) for n in ("team-a", "rack-owners", "team-b"))
    for permission in ("view_devicetype", "submit_to_devicetype"):
        GroupDeviceTypePermission.objects.create(group=team_a, device_type_id="secret", permission=permission)
    for permission in ("view_device", "submit_to_device", "change_device"):
        GroupDevicePermission.objects.create(group=owners, device_id="qemu-02", permission=permission)
    Worker.objects.create(hostname="rack-worker")  # no devices: the workers' own rows
    for permission in ("view_worker", "change_worker"):
        GroupWorkerPermission.objects.create(group=owners, worker_id="rack-worker", permission=permission)
    users = {"anonymous": None}
    for name, group in (("member", team_a), ("non_member", team_b), ("owner", owners)):
        users[name] = User.objects.create_user(name)
        users[name].groups.add(group)
    users["admin"] = User.objects.create_superuser("admin")
    return users


def fault_code(call) -> int | None:
    """The call's fault code, None when it succeeds."""
    try:
        call()
    except xmlrpc.client.Fault as fault:
        return fault.faultCode
    return None


def web(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def rpc(user):
    return proxy(None if user is None else basic(user.username, AuthToken.objects.create(user=user).secret))


def rest(user):
    client = Client()
    if user is not None:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {AuthToken.objects.create(user=user).secret}"
    return client


@pytest.mark.parametrize("caller", CALLERS)
def test_lists_and_pages(lab, caller):
    user = lab[caller]
    expected = {"qemu-01"} | ({"secret-01"} if caller in SEES_SECRET else set()) | (
        {"qemu-02"} if caller in SEES_QEMU_02 else set())
    types = {"qemu"} | ({"secret"} if caller in SEES_SECRET else set())

    assert {d["hostname"] for d in rpc(user).scheduler.devices.list()} == expected
    assert {t["name"] for t in rpc(user).scheduler.device_types.list()} == types
    assert {d["hostname"] for d in rest(user).get("/api/v0.2/devices/").json()["results"]} == expected
    assert {t["name"] for t in rest(user).get("/api/v0.2/devicetypes/").json()["results"]} == types
    page = web(user).get("/scheduler/devices").content.decode()
    assert {h for h in ("qemu-01", "qemu-02", "secret-01") if f">{h}<" in page} == expected
    for hostname in ("qemu-02", "secret-01"):
        seen = hostname in expected
        assert web(user).get(f"/scheduler/device/{hostname}").status_code == (200 if seen else 404)
        assert rest(user).get(f"/api/v0.2/devices/{hostname}/").status_code == (200 if seen else 404)
        assert (fault_code(lambda h=hostname: rpc(user).scheduler.devices.show(h)) is None) == seen
    assert web(user).get("/scheduler/device_type/secret").status_code == (200 if caller in SEES_SECRET else 404)
    if caller in SEES_QEMU_02:  # the page says who the device is for
        page = web(user).get("/scheduler/device/qemu-02").content.decode()
        assert "rack-owners: submit_to_device" in page and ("/admin/permissions/" in page) == (caller == "admin")
    assert (fault_code(lambda: rpc(user).scheduler.device_types.show("secret")) is None) == (caller in SEES_SECRET)
    visible = rpc(user).system.user_can_view_devices(["qemu-01"]) if user else {"qemu-01": True}
    assert visible == {"qemu-01": True}


@pytest.mark.parametrize("caller", CALLERS)
def test_submission(lab, caller):
    user = lab[caller]
    if user is None:
        assert fault_code(lambda: rpc(user).scheduler.jobs.submit(job_text("qemu"))) == 401
        return
    for device_type, device, allowed in (
        ("qemu", None, True),
        ("secret", None, caller in SUBMITS_SECRET),
        ("qemu", "qemu-02", caller in SEES_QEMU_02),
    ):
        if allowed:
            (job,) = submit_job(job_text(device_type, device), user)
            assert job.requested_device_type_id == device_type
            assert rpc(user).scheduler.jobs.submit(job_text(device_type, device))
            continue
        with pytest.raises(SubmissionError) as refused:
            submit_job(job_text(device_type, device), user)
        (error,) = refused.value.errors
        group = "team-a" if device_type == "secret" else "rack-owners"
        assert "you may not submit to" in error and group in error, error
        assert fault_code(lambda dt=device_type, d=device: rpc(user).scheduler.jobs.submit(job_text(dt, d))) == 400
    expected = {"qemu": True, "secret": caller in SUBMITS_SECRET}
    assert rpc(user).system.user_can_submit_to_types(list(expected) if caller in SEES_SECRET else ["qemu"]) == {
        k: v for k, v in expected.items() if caller in SEES_SECRET or k == "qemu"}


def test_a_restricted_device_never_runs_a_strangers_job_and_health_checks_always_run(lab, settings):
    busy = Device.objects.get(pk="qemu-01")
    busy.go_health(DeviceHealth.MAINTENANCE, "only qemu-02 is usable")
    busy.save()
    stranger = submit_job(job_text("qemu", name="stranger"), lab["member"])[0]
    schedule()
    assert TestJob.objects.get(pk=stranger.pk).state == JobState.SUBMITTED  # qemu-02 stays idle for it
    owner_job = submit_job(job_text("qemu", name="owner"), lab["owner"])[0]
    schedule()
    owner_job.refresh_from_db()
    assert (owner_job.state, owner_job.actual_device_id) == (JobState.SCHEDULED, "qemu-02")
    assert TestJob.objects.get(pk=stranger.pk).state == JobState.SUBMITTED

    # a health check is the lab's: it runs on a restricted device whoever restricted it
    secret = Device.objects.get(pk="secret-01")
    secret.go_health(DeviceHealth.UNKNOWN, "needs a check")
    secret.save()
    # (its dictionary extends qemu.jinja2: the qemu health check is its)
    settings.HEALTH_CHECKS_PATH.joinpath("qemu.yaml").write_text(job_text("qemu", name="health"))
    summary = schedule()
    check = TestJob.objects.get(pk=summary.health_checks[0])
    assert check.health_check and check.actual_device_id == "secret-01"


@pytest.mark.parametrize("caller", CALLERS)
def test_job_pages_and_apis_follow_the_device(lab, caller):
    user = lab[caller]
    on_secret = submit_job(job_text("secret", name="on secret"), lab["member"])[0]
    on_qemu_02 = submit_job(job_text("qemu", "qemu-02", name="on qemu-02"), lab["owner"])[0]
    open_job = submit_job(job_text("qemu", name="open"), lab["non_member"])[0]
    for job, sees in ((on_secret, caller in SEES_SECRET), (on_qemu_02, caller in SEES_QEMU_02 | {"owner"}),
                      (open_job, True)):
        assert web(user).get(f"/scheduler/job/{job.pk}").status_code == (200 if sees else 302 if user is None else 404)
        assert rest(user).get(f"/api/v0.2/jobs/{job.pk}/").status_code == (200 if sees else 404)
        assert (fault_code(lambda j=job: rpc(user).scheduler.jobs.show(j.pk)) is None) == sees
    listed = {j["id"] for j in rest(user).get("/api/v0.2/jobs/").json()["results"]}
    assert (on_secret.pk in listed, on_qemu_02.pk in listed, open_job.pk in listed) == (
        caller in SEES_SECRET, caller in SEES_QEMU_02, True)


@pytest.mark.parametrize("caller", CALLERS)
def test_change_rights_on_a_device(lab, caller):
    user = lab[caller]
    may_change = caller in SEES_QEMU_02
    code = fault_code(lambda: rpc(user).scheduler.devices.update("qemu-02", None, None, None, None, "MAINTENANCE"))
    assert code == (None if may_change else 401 if user is None else 404)
    assert Device.objects.get(pk="qemu-02").health == (DeviceHealth.MAINTENANCE if may_change else DeviceHealth.GOOD)
    # but moving the device elsewhere stays with global permissions
    if caller == "owner":
        assert fault_code(lambda: rpc(user).scheduler.devices.update("qemu-02", "worker-1")) == 403
    job = submit_job(job_text("qemu", "qemu-02", name="to cancel"), lab["owner"] if caller != "admin" else user)[0]
    if user is not None and caller in SEES_QEMU_02:
        assert fault_code(lambda: rpc(user).scheduler.jobs.cancel(job.pk)) is None


def test_a_job_left_without_a_device_it_may_use_says_why(lab):
    job = submit_job(job_text("qemu", "qemu-02", name="before the rows"), lab["owner"])[0]
    GroupDevicePermission.objects.filter(device="qemu-02").update(group=Group.objects.get(name="team-b"))
    schedule()
    page = web(lab["owner"]).get(f"/scheduler/job/{job.pk}").content.decode()
    assert "reserved to groups its submitter is not in" in page


@pytest.mark.parametrize("caller", CALLERS)
def test_worker_rights(lab, caller):
    user = lab[caller]
    sees = caller in SEES_QEMU_02  # rack-owners and admins
    assert ("rack-worker" in rpc(user).scheduler.workers.list()) == sees
    assert ("rack-worker" in {w["hostname"] for w in rest(user).get("/api/v0.2/workers/").json()["results"]}) == sees
    assert web(user).get("/scheduler/worker/rack-worker").status_code == (200 if sees else 404)
    code = fault_code(lambda: rpc(user).scheduler.workers.update("rack-worker", None, "MAINTENANCE"))
    assert code == (None if sees else 401 if user is None else 404)
    # worker-1 has no rows: everyone sees it, only admins change it
    code = fault_code(lambda: rpc(user).scheduler.workers.update("worker-1", "renamed"))
    assert code == (None if caller == "admin" else 401 if user is None else 403)
