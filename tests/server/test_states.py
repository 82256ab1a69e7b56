"""Every job, device and worker transition, and every refused one."""

import pytest
from django.db import IntegrityError, transaction

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import Device, DeviceTransition
from lava_scheduler.lab.states import DeviceHealth, DeviceState, TransitionError, WorkerHealth


def make_job(user, device_type, **kwargs) -> TestJob:
    return TestJob.objects.create(
        submitter=user, requested_device_type=device_type, definition="job_name: x", **kwargs
    )


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def job(user, qemu_type):
    return make_job(user, qemu_type)


def test_normal_life_of_a_job(job, device):
    job.go_state_scheduled(device)
    assert reload(job).state == JobState.SCHEDULED
    assert reload(device).state == DeviceState.RESERVED
    job.go_state_running()
    assert reload(job).start_time is not None
    assert reload(device).state == DeviceState.RUNNING
    job.go_state_finished(JobHealth.COMPLETE)
    job = reload(job)
    assert (job.state, job.health) == (JobState.FINISHED, JobHealth.COMPLETE)
    assert job.end_time >= job.start_time
    assert reload(device).state == DeviceState.IDLE


def test_multinode_sub_job_goes_through_scheduling(job, device):
    job.go_state_scheduling(device)
    assert reload(job).state == JobState.SCHEDULING
    assert reload(device).state == DeviceState.RESERVED
    job.go_state_scheduled()
    assert reload(job).state == JobState.SCHEDULED


def test_cancel_queued_job_finishes_it_at_once(job):
    job.cancel("not needed")
    job = reload(job)
    assert (job.state, job.health) == (JobState.FINISHED, JobHealth.CANCELED)
    assert job.failure_comment == "not needed"


@pytest.mark.parametrize("reach", ["scheduling", "scheduled", "running"])
def test_cancel_job_on_a_device_goes_canceling_then_canceled(job, device, reach):
    if reach == "scheduling":
        job.go_state_scheduling(device)
    else:
        job.go_state_scheduled(device)
        if reach == "running":
            job.go_state_running()
    job.cancel()
    assert reload(job).state == JobState.CANCELING
    job.go_state_finished(JobHealth.COMPLETE)  # a canceled job stays canceled, whatever lava-run said
    job = reload(job)
    assert (job.state, job.health) == (JobState.FINISHED, JobHealth.CANCELED)
    assert reload(device).state == DeviceState.IDLE


def test_finish_without_start_backfills_start_time(job, device):
    job.go_state_scheduled(device)
    job.go_state_finished(JobHealth.INCOMPLETE, "Infrastructure", "no console")
    job = reload(job)
    assert job.start_time == job.end_time
    assert (job.error_type, job.error_msg) == ("Infrastructure", "no console")


def test_refused_job_transitions(job, device, user, qemu_type):
    with pytest.raises(TransitionError, match="cannot start running"):
        job.go_state_running()
    with pytest.raises(TransitionError, match="needs a health other than Unknown"):
        job.go_state_finished(JobHealth.UNKNOWN)
    with pytest.raises(TransitionError, match="needs a device"):
        job.go_state_scheduled()
    job.go_state_scheduled(device)
    with pytest.raises(TransitionError, match="cannot reserve a device"):
        job.go_state_scheduled(device)
    with pytest.raises(TransitionError, match="cannot reserve a device"):
        job.go_state_scheduling(device)
    job.go_state_running()
    job.go_state_finished(JobHealth.COMPLETE)
    for attempt in (job.go_state_running, job.cancel, lambda: job.go_state_finished(JobHealth.COMPLETE)):
        with pytest.raises(TransitionError, match="is Finished"):
            attempt()


def test_busy_device_cannot_be_reserved_twice(job, device, user, qemu_type):
    job.go_state_scheduled(device)
    other = make_job(user, qemu_type)
    with pytest.raises(TransitionError, match="only an Idle device can be reserved"):
        other.go_state_scheduled(reload(device))
    assert reload(other).state == JobState.SUBMITTED


def test_database_refuses_two_unfinished_jobs_on_one_device(job, device, user, qemu_type):
    job.go_state_scheduled(device)
    other = make_job(user, qemu_type)
    with pytest.raises(IntegrityError), transaction.atomic():
        TestJob.objects.filter(pk=other.pk).update(actual_device=device)


def test_state_and_health_cannot_be_assigned_freely(job, device, worker):
    job.state = JobState.RUNNING
    with pytest.raises(TransitionError, match="only change through a transition"):
        job.save()
    device.health = DeviceHealth.GOOD
    with pytest.raises(TransitionError):
        device.save()
    worker.health = WorkerHealth.RETIRED
    with pytest.raises(TransitionError):
        worker.save()


def run_job(user, device, health_check: bool, health: int, error_type: str = "") -> TestJob:
    job = make_job(user, device.device_type, health_check=health_check, requested_device=device)
    job.go_state_scheduled(reload(device))
    job.go_state_running()
    job.go_state_finished(health, error_type)
    return job


@pytest.mark.parametrize(
    ("before", "health", "after"),
    [
        (DeviceHealth.UNKNOWN, JobHealth.COMPLETE, DeviceHealth.GOOD),
        (DeviceHealth.BAD, JobHealth.COMPLETE, DeviceHealth.GOOD),
        (DeviceHealth.GOOD, JobHealth.INCOMPLETE, DeviceHealth.BAD),
        (DeviceHealth.UNKNOWN, JobHealth.CANCELED, DeviceHealth.BAD),
        (DeviceHealth.LOOPING, JobHealth.INCOMPLETE, DeviceHealth.LOOPING),
        (DeviceHealth.LOOPING, JobHealth.COMPLETE, DeviceHealth.LOOPING),
        (DeviceHealth.MAINTENANCE, JobHealth.COMPLETE, DeviceHealth.MAINTENANCE),
        (DeviceHealth.RETIRED, JobHealth.INCOMPLETE, DeviceHealth.RETIRED),
    ],
)
def test_health_check_outcome_sets_device_health(user, device, before, health, after):
    if before == DeviceHealth.RETIRED:
        device.go_health(before, "setup", user=user)
    else:
        device.go_health(before, "setup")
    device.save()
    job = run_job(user, device, True, health)
    device = reload(device)
    assert device.health == after
    if before not in (DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED):
        assert device.last_health_report_job_id == job.pk


@pytest.mark.parametrize(
    ("error_type", "after"),
    [
        ("Infrastructure", DeviceHealth.UNKNOWN),
        ("Bug", DeviceHealth.UNKNOWN),
        ("Configuration", DeviceHealth.UNKNOWN),
        ("Test", DeviceHealth.GOOD),
        ("Job", DeviceHealth.GOOD),
        ("", DeviceHealth.GOOD),
    ],
)
def test_normal_job_infrastructure_error_makes_device_unknown(user, device, error_type, after):
    device.go_health(DeviceHealth.GOOD, "setup")
    device.save()
    run_job(user, device, False, JobHealth.INCOMPLETE, error_type)
    assert reload(device).health == after


def test_every_device_change_is_in_its_history_with_a_reason(user, device):
    device.go_health(DeviceHealth.GOOD, "setup")
    device.save()
    run_job(user, device, True, JobHealth.INCOMPLETE)
    history = [str(t) for t in DeviceTransition.objects.filter(device=device).order_by("created", "id")]
    assert history[0] == "Maintenance → Unknown (test setup)"
    assert history[1] == "Unknown → Good (setup)"
    assert any(line.startswith("Idle → Reserved (reserved for job") for line in history)
    assert any(line.startswith("Good → Bad (health-check job") and "incomplete" in line for line in history)
    assert history[-1].startswith("Running → Idle") or history[-2].startswith("Running → Idle")


def test_retired_device_comes_back_only_through_an_admin(user, device):
    device.go_health(DeviceHealth.RETIRED, "broken", user=user)
    device.save()
    with pytest.raises(TransitionError, match="only an admin"):
        device.go_health(DeviceHealth.UNKNOWN, "automatic")
    device.go_health(DeviceHealth.UNKNOWN, "repaired", user=user, manual=True)


def test_worker_back_to_active_makes_good_devices_unknown(worker, device):
    device.go_health(DeviceHealth.GOOD, "setup")
    device.save()
    worker.go_health_maintenance()
    worker.save()
    assert reload(device).health == DeviceHealth.GOOD  # maintenance: no cascade
    worker.go_health_active()
    worker.save()
    assert reload(device).health == DeviceHealth.UNKNOWN


def test_worker_retired_retires_devices_then_active_leaves_them(worker, device, qemu_type):
    bad = Device.objects.create(hostname="qemu-02", device_type=qemu_type, worker_host=worker)
    bad.go_health(DeviceHealth.BAD, "setup")
    bad.save()
    worker.go_health_retired()
    worker.save()
    assert reload(device).health == DeviceHealth.RETIRED
    assert reload(bad).health == DeviceHealth.BAD
    worker.go_health_active()
    worker.save()
    assert reload(device).health == DeviceHealth.RETIRED


def test_worker_online_offline(worker):
    assert worker.get_state_display() == "Online"
    worker.go_state_offline()
    worker.save()
    assert reload(worker).get_state_display() == "Offline"


def _group(user, qemu_type, worker, essential_role):
    """A server and two clients on three devices, Running; ``essential_role`` is marked essential."""
    jobs = {}
    for index, role in enumerate(("server", "client", "client")):
        protocol = {"role": role, "target_group": "grp", "group_size": 3}
        if role == essential_role:
            protocol["essential"] = True
        definition = f"job_name: mn\nprotocols:\n  lava-multinode: {protocol}\n".replace("'", "")
        job = TestJob.objects.create(submitter=user, requested_device_type=qemu_type, definition=definition,
                                     target_group="grp", sub_id=f"1.{index}")
        device = Device.objects.create(hostname=f"mn-{index}", device_type=qemu_type, worker_host=worker)
        device.go_health(DeviceHealth.GOOD, "test")
        device.save()
        job.go_state_scheduled(device)
        job.go_state_running()
        jobs[f"{role}{index}"] = job
    return jobs


@pytest.mark.parametrize("end", ["incomplete", "canceled"])
def test_an_essential_role_that_fails_or_is_canceled_cancels_its_group(user, qemu_type, worker, end):
    jobs = _group(user, qemu_type, worker, "server")
    server = jobs["server0"]
    if end == "incomplete":
        server.go_state_finished(JobHealth.INCOMPLETE, "Test", "boom")
    else:
        server.cancel("by hand")
    for name in ("client1", "client2"):
        client = reload(jobs[name])
        assert client.state == JobState.CANCELING
        assert "the essential role server of its MultiNode group (job 1.0)" in client.failure_comment


def test_a_non_essential_role_failing_leaves_the_group_alone(user, qemu_type, worker):
    jobs = _group(user, qemu_type, worker, "server")
    jobs["client1"].go_state_finished(JobHealth.INCOMPLETE, "Test", "boom")
    assert reload(jobs["server0"]).state == JobState.RUNNING and reload(jobs["client2"]).state == JobState.RUNNING
    jobs["server0"].go_state_finished(JobHealth.COMPLETE)
    assert reload(jobs["client2"]).state == JobState.RUNNING  # a Complete essential role ends nothing
