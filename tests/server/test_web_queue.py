"""Queue transparency: why a queued job waits, by the scheduler's own rules."""

import pytest

from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, Tag, Worker
from lava_scheduler.lab.states import DeviceHealth, WorkerHealth
from lava_server.web.queue_reason import explain_wait, jobs_ahead
from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import make_job

web_lab, alice = fixtures.web_lab, fixtures.alice
pytestmark = pytest.mark.django_db


def set_health(hostname: str, health: int) -> None:
    device = Device.objects.get(pk=hostname)
    device.go_health(health, "test", manual=True)
    device.save()


def test_an_idle_device_is_ready(web_lab, alice):
    job = make_job(alice, "ready")
    explanation = explain_wait(job)
    assert "A device is ready" in explanation.summary and explanation.ahead == 0
    assert ("fake-01", "is Idle and Good") in explanation.devices


def test_jobs_ahead_in_priority_order(web_lab, alice):
    first = make_job(alice, "first")
    urgent = make_job(alice, "urgent", priority=100)
    last = make_job(alice, "last", priority=0)
    assert (jobs_ahead(urgent), jobs_ahead(first), jobs_ahead(last)) == (0, 1, 2)
    assert "2 job(s) of this type come first" in explain_wait(last).summary


def test_all_devices_busy(web_lab, alice):
    for hostname in ("fake-01", "fake-02"):
        make_job(alice, f"on {hostname}").go_state_scheduled(Device.objects.get(pk=hostname))
    job = make_job(alice, "waiting")
    explanation = explain_wait(job)
    assert explanation.summary.startswith("All 2 usable fake devices are busy")
    assert ("fake-02", "is busy (Reserved)") in explanation.devices


def test_no_usable_device(web_lab, alice):
    set_health("fake-01", DeviceHealth.BAD)
    set_health("fake-02", DeviceHealth.RETIRED)
    explanation = explain_wait(make_job(alice, "stuck"))
    assert "No usable fake device" in explanation.summary
    assert dict(explanation.devices) == {"fake-01": "is Bad", "fake-02": "is Retired"}


def test_worker_problems(web_lab, alice):
    worker = Worker.objects.get(pk="worker-web")
    worker.go_state_offline()
    worker.save()
    assert dict(explain_wait(make_job(alice, "a")).devices)["fake-01"] == "its worker worker-web is offline"
    worker.go_state_online()
    worker.go_health(WorkerHealth.MAINTENANCE)
    worker.save()
    assert "Maintenance" in dict(explain_wait(make_job(alice, "b")).devices)["fake-01"]
    worker.go_health(WorkerHealth.ACTIVE)
    worker.job_limit = 1
    worker.save()
    make_job(alice, "busy").go_state_scheduled(Device.objects.get(pk="fake-01"))
    reasons = dict(explain_wait(make_job(alice, "c")).devices)
    assert reasons["fake-02"] == "its worker worker-web is at its limit of 1 job(s)"


def test_tags_and_requested_device(web_lab, alice):
    tag = Tag.objects.create(name="usb")
    job = make_job(alice, "needs usb")
    job.tags.add(tag)
    assert explain_wait(job).summary == "No fake device has all the tags usb."
    Device.objects.get(pk="fake-02").tags.add(tag)
    assert [hostname for hostname, _ in explain_wait(job).devices] == ["fake-02"]
    pinned = make_job(alice, "pinned", requested_device_id="fake-01")
    assert [hostname for hostname, _ in explain_wait(pinned).devices] == ["fake-01"]


def test_unknown_health_and_queue_timeout(web_lab, alice):
    set_health("fake-01", DeviceHealth.UNKNOWN)
    set_health("fake-02", DeviceHealth.MAINTENANCE)
    explanation = explain_wait(make_job(alice, "timed", queue_timeout=3600))
    assert "health check may run first" in dict(explanation.devices)["fake-01"]
    assert explanation.timeout_at is not None


def test_only_waiting_jobs_are_explained(web_lab, alice):
    job = make_job(alice, "done")
    job.cancel()
    assert explain_wait(job) is None
    group = [make_job(alice, f"role {n}", target_group="grp") for n in range(2)]
    group[0].go_state_scheduling(Device.objects.get(pk="fake-01"))
    assert group[0].state == JobState.SCHEDULING
    assert "1 other job(s) of its MultiNode group" in explain_wait(group[0]).summary
