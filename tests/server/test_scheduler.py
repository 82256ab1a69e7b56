"""The scheduling rules, on the real database."""

import threading
from datetime import timedelta

import pytest
import yaml
from django.db import connection
from django.utils import timezone

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.jobs.submission import SubmissionError, submit_job
from lava_scheduler.lab.models import Device, DeviceType, Tag, Worker
from lava_scheduler.lab.states import DeviceHealth, DeviceState, WorkerHealth
from lava_scheduler.master.jobfiles import start_fields
from lava_scheduler.master.server import Master, MasterConfig
from lava_scheduler.scheduler.core import schedule
from lava_scheduler.scheduler.daemon import mark_silent_workers_offline
from lava_server.web.queue_reason import explain_wait

HEALTH_CHECK = """
job_name: qemu health check
device_type: qemu
visibility: public
timeouts: {job: {minutes: 5}}
actions:
- boot: {method: qemu, media: tmpfs, prompts: ['# ']}
"""


def job_yaml(**extra) -> str:
    data = {
        "job_name": "job",
        "device_type": "qemu",
        "visibility": "public",
        "timeouts": {"job": {"minutes": 5}},
        "actions": [{"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "]}}],
    }
    data.update(extra)
    return yaml.safe_dump(data)


@pytest.fixture
def lab(settings, tmp_path, worker, qemu_type):
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    settings.DEVICES_PATH.mkdir()
    settings.HEALTH_CHECKS_PATH.mkdir()
    return tmp_path


def add_device(lab, hostname: str, worker, health=DeviceHealth.GOOD, tags=(), dictionary=True) -> Device:
    device = Device.objects.create(hostname=hostname, device_type_id="qemu", worker_host=worker)
    device.go_health(health, "test setup")
    device.save()
    device.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
    if dictionary:
        (lab / "devices" / f"{hostname}.jinja2").write_text("{% extends 'qemu.jinja2' %}\n")
    return device


def state(job) -> tuple[str, str | None]:
    job = TestJob.objects.get(pk=job.pk)
    return job.get_state_display(), job.actual_device_id


def test_priority_then_submit_time(lab, user, worker):
    add_device(lab, "qemu-01", worker)
    (low,) = submit_job(job_yaml(priority="low"), user)
    (first,) = submit_job(job_yaml(), user)
    (second,) = submit_job(job_yaml(), user)
    (high,) = submit_job(job_yaml(priority=100), user)
    assert schedule().scheduled == [high.pk]
    TestJob.objects.get(pk=high.pk).go_state_finished(JobHealth.COMPLETE)
    assert schedule().scheduled == [first.pk]
    assert state(second)[0] == state(low)[0] == "Submitted"


def test_job_tags_must_be_a_subset_of_the_device_tags(lab, user, worker):
    add_device(lab, "plain", worker)
    add_device(lab, "usb", worker, tags=["usb", "hdmi"])
    (job,) = submit_job(job_yaml(tags=["usb"]), user)
    schedule()
    assert state(job) == ("Scheduled", "usb")


def test_requested_device_and_worker_are_honoured(lab, user, worker):
    other = Worker.objects.create(hostname="worker-2")
    other.go_state_online()
    other.save()
    add_device(lab, "qemu-01", worker)
    add_device(lab, "qemu-02", other)
    (pinned,) = submit_job(job_yaml(device="qemu-02"), user)
    (on_worker,) = submit_job(job_yaml(worker="worker-1"), user)
    schedule()
    assert state(pinned) == ("Scheduled", "qemu-02")
    assert state(on_worker) == ("Scheduled", "qemu-01")


def test_worker_job_limit(lab, user, worker):
    worker.job_limit = 1
    worker.save()
    add_device(lab, "qemu-01", worker)
    add_device(lab, "qemu-02", worker)
    jobs = [submit_job(job_yaml(), user)[0] for _ in range(2)]
    assert len(schedule().scheduled) == 1
    assert sorted(state(j)[0] for j in jobs) == ["Scheduled", "Submitted"]


def test_only_good_or_unknown_devices_on_online_active_workers(lab, user, worker):
    for health in (DeviceHealth.BAD, DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED):
        add_device(lab, f"qemu-{health}", worker, health=health)
    (job,) = submit_job(job_yaml(), user)
    other = Worker.objects.create(hostname="offline-worker")  # Offline by default
    add_device(lab, "on-offline-worker", other)
    schedule()
    assert state(job) == ("Submitted", None)
    worker.go_health_maintenance()
    worker.save()
    add_device(lab, "on-maintenance-worker", worker)
    schedule()
    assert state(job) == ("Submitted", None)


def test_unknown_device_runs_its_health_check_first(lab, user, worker):
    (lab / "health-checks" / "qemu.yaml").write_text(HEALTH_CHECK)
    device = add_device(lab, "qemu-01", worker, health=DeviceHealth.UNKNOWN)
    (job,) = submit_job(job_yaml(priority="high"), user)
    summary = schedule()
    assert len(summary.health_checks) == 1 and summary.scheduled == []
    check = TestJob.objects.get(pk=summary.health_checks[0])
    assert check.health_check and check.submitter.username == "lava-health"
    assert (check.get_state_display(), check.actual_device_id) == ("Scheduled", "qemu-01")
    assert state(job) == ("Submitted", None)
    check.go_state_running()
    check.go_state_finished(JobHealth.COMPLETE)
    assert Device.objects.get(pk=device.pk).health == DeviceHealth.GOOD
    summary = schedule()
    assert summary.health_checks == [] and summary.scheduled == [job.pk]


def test_health_check_due_by_hours(lab, user, worker, qemu_type):
    (lab / "health-checks" / "qemu.yaml").write_text(HEALTH_CHECK)
    add_device(lab, "qemu-01", worker)
    assert len(schedule().health_checks) == 1  # never had one
    TestJob.objects.filter(health_check=True).update(submit_time=timezone.now() - timedelta(hours=2))
    check = TestJob.objects.get(health_check=True)
    check.go_state_finished(JobHealth.COMPLETE)
    assert schedule().health_checks == []
    qemu_type.health_frequency = 1
    qemu_type.save()
    assert len(schedule().health_checks) == 1


def test_looping_device_only_runs_health_checks(lab, user, worker):
    (lab / "health-checks" / "qemu.yaml").write_text(HEALTH_CHECK)
    add_device(lab, "qemu-01", worker, health=DeviceHealth.LOOPING)
    (job,) = submit_job(job_yaml(), user)
    for _ in range(2):
        summary = schedule()
        assert len(summary.health_checks) == 1 and summary.scheduled == []
        check = TestJob.objects.get(pk=summary.health_checks[0])
        check.go_state_finished(JobHealth.INCOMPLETE)
        assert Device.objects.get(pk="qemu-01").health == DeviceHealth.LOOPING
    assert state(job) == ("Submitted", None)


def test_device_with_a_broken_dictionary_goes_bad(lab, user, worker):
    add_device(lab, "qemu-01", worker, dictionary=False)
    (job,) = submit_job(job_yaml(), user)
    summary = schedule()
    assert summary.bad_devices == ["qemu-01"]
    device = Device.objects.get(pk="qemu-01")
    assert device.health == DeviceHealth.BAD
    assert "no device dictionary" in device.transitions.first().reason
    assert state(job) == ("Submitted", None)


def test_queue_timeout_cancels_waiting_jobs(lab, user, worker):
    add_device(lab, "qemu-01", worker, health=DeviceHealth.BAD)
    (job,) = submit_job(job_yaml(timeouts={"job": {"minutes": 5}, "queue": {"seconds": 30}}), user)
    assert schedule().timed_out == []
    TestJob.objects.filter(pk=job.pk).update(submit_time=timezone.now() - timedelta(minutes=1))
    assert schedule().timed_out == [job.pk]
    job = TestJob.objects.get(pk=job.pk)
    assert (job.state, job.health) == (JobState.FINISHED, JobHealth.CANCELED)
    assert "queue timeout" in job.failure_comment


def test_multinode_group_starts_together_with_roles(lab, user, worker):
    add_device(lab, "qemu-01", worker)
    text = yaml.safe_dump(
        {
            "job_name": "mn",
            "visibility": "public",
            "timeouts": {"job": {"minutes": 5}},
            "protocols": {"lava-multinode": {"roles": {"server": {"device_type": "qemu", "count": 1},
                                                        "client": {"device_type": "qemu", "count": 1}},
                                              "timeout": {"minutes": 5}}},
            "actions": [{"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "], "role": ["server", "client"]}}],
        },
        sort_keys=False,
    )
    add_device(lab, "qemu-02", worker)
    jobs = submit_job(text, user)
    schedule()
    for job in jobs:
        job = TestJob.objects.get(pk=job.pk)
        assert job.get_state_display() == "Scheduled"
        roles = yaml.safe_load(job.definition)["protocols"]["lava-multinode"]["roles"]
        assert roles == {str(jobs[0].pk): "server", str(jobs[1].pk): "client"}


def test_partial_multinode_group_waits_in_scheduling(lab, user, worker):
    add_device(lab, "qemu-01", worker)
    add_device(lab, "qemu-02", worker)
    text = yaml.safe_dump(
        {
            "job_name": "mn",
            "visibility": "public",
            "timeouts": {"job": {"minutes": 5}},
            "protocols": {"lava-multinode": {"roles": {"a": {"device_type": "qemu", "count": 2}},
                                              "timeout": {"minutes": 5}}},
            "actions": [{"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "], "role": ["a"]}}],
        }
    )
    jobs = submit_job(text, user)
    device = Device.objects.get(pk="qemu-02")
    device.go_health(DeviceHealth.BAD, "broken")
    device.save()
    schedule()
    assert sorted(TestJob.objects.get(pk=j.pk).get_state_display() for j in jobs) == ["Scheduling", "Submitted"]


def test_silent_workers_go_offline(worker):
    Worker.objects.filter(pk=worker.pk).update(last_ping=timezone.now() - timedelta(minutes=5))
    assert mark_silent_workers_offline() == ["worker-1"]
    assert Worker.objects.get(pk=worker.pk).get_state_display() == "Offline"


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_never_double_book(settings, tmp_path):
    from django.contrib.auth.models import User

    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "none"
    settings.DEVICES_PATH.mkdir()
    user = User.objects.create(username="racer")
    DeviceType.objects.create(name="qemu")
    worker = Worker.objects.create(hostname="worker-1")
    worker.go_state_online()
    worker.save()
    for index in range(6):
        add_device(tmp_path, f"qemu-{index:02d}", worker)
    jobs = [submit_job(job_yaml(), user)[0] for _ in range(20)]
    results: list = []

    def one_scheduler():
        try:
            for _ in range(3):
                results.append(schedule().scheduled)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scheduled = [job_id for batch in results for job_id in batch]
    assert len(scheduled) == len(set(scheduled)) == 6
    devices = TestJob.objects.filter(pk__in=[j.pk for j in jobs]).exclude(actual_device=None)
    assert sorted(devices.values_list("actual_device", flat=True)) == [f"qemu-{i:02d}" for i in range(6)]
    assert set(Device.objects.values_list("state", flat=True)) == {DeviceState.RESERVED}
    assert WorkerHealth.ACTIVE == Worker.objects.get().health


def test_health_check_due_by_number_of_jobs(lab, user, worker, qemu_type):
    from lava_scheduler.lab.states import HealthDenominator

    qemu_type.health_denominator = HealthDenominator.JOBS
    qemu_type.health_frequency = 2
    qemu_type.save()
    (lab / "health-checks" / "qemu.yaml").write_text(HEALTH_CHECK)
    add_device(lab, "qemu-01", worker)
    check = TestJob.objects.get(pk=schedule().health_checks[0])
    check.go_state_running()
    check.go_state_finished(JobHealth.COMPLETE)
    for _ in range(2):
        (job,) = submit_job(job_yaml(), user)
        summary = schedule()
        assert summary.health_checks == [] and summary.scheduled == [job.pk]
        job = TestJob.objects.get(pk=job.pk)
        job.go_state_running()
        job.go_state_finished(JobHealth.COMPLETE)
    assert len(schedule().health_checks) == 1  # two jobs since the last check


def test_a_job_behind_the_head_of_the_queue_still_gets_its_device(lab, user, worker):
    # one idle device: the pass reads the first 10 of the queue, none fits, so it reads the rest
    add_device(lab, "plain", worker)
    add_device(lab, "usb", worker, health=DeviceHealth.MAINTENANCE, tags=["usb"])
    blocked = [submit_job(job_yaml(tags=["usb"]), user)[0] for _ in range(12)]
    (fits,) = submit_job(job_yaml(), user)
    assert schedule().scheduled == [fits.pk]
    assert {state(job)[0] for job in blocked} == {"Submitted"}


def test_a_pass_reads_and_writes_with_as_many_queries_for_a_bigger_lab(lab, user, worker):
    from django.test.utils import CaptureQueriesContext

    def one_pass(devices: int, jobs: int) -> tuple[int, int]:
        TestJob.objects.all().delete()
        Device.objects.all().delete()
        for index in range(devices):
            add_device(lab, f"qemu-{index:02d}", worker, tags=["usb"] if index % 2 else ())
        for index in range(jobs):
            submit_job(job_yaml(tags=["usb"] if index % 3 == 0 else []), user)
        with CaptureQueriesContext(connection) as queries:
            scheduled = schedule().scheduled
        return len(scheduled), len(queries)

    small, large = one_pass(2, 3), one_pass(12, 40)
    assert (small[0], large[0]) == (2, 12)
    assert small[1] == large[1] <= 25  # no query per job or per device
    reserved = Device.objects.filter(state=DeviceState.RESERVED)
    assert reserved.count() == 12
    assert {t.reason for d in reserved for t in d.transitions.filter(field="state")} == {
        f"reserved for job {job_id}" for job_id in TestJob.objects.exclude(actual_device=None).values_list("pk", flat=True)
    }


def ssh_guest_group(host_count: int = 1) -> str:
    return yaml.safe_dump({
        "job_name": "ssh guests",
        "visibility": "public",
        "timeouts": {"job": {"minutes": 5}},
        "protocols": {"lava-multinode": {"roles": {
            "host": {"device_type": "qemu", "count": host_count},
            "guest": {"connection": "ssh", "host_role": "host", "count": 2}}}},
        "actions": [{"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "], "role": ["host"]}},
                    {"deploy": {"to": "ssh", "connection": "ssh", "role": ["guest"]}}],
    }, sort_keys=False)


def test_ssh_guest_roles_ride_on_the_host_roles_device(lab, user, worker):
    """Secondary connections: no device type, scheduled with their group's host, started on its worker
    with the host device's configuration minimised (its ssh settings, no power or console)."""
    host_device = add_device(lab, "qemu-01", worker)
    (lab / "devices" / "qemu-01.jinja2").write_text("{% extends 'qemu.jinja2' %}{% set ssh_host = '127.0.0.1' %}"
                                                   "{% set ssh_port = 2022 %}{% set ssh_identity_file = '/k/lava' %}")
    host, *guests = submit_job(ssh_guest_group(), user)
    assert host.requested_device_type_id == "qemu"
    assert [(g.requested_device_type_id, g.is_dynamic_connection) for g in guests] == [(None, True)] * 2
    guest_definition = yaml.safe_load(guests[0].definition)
    assert (guest_definition["connection"], guest_definition["host_role"]) == ("ssh", "host")
    assert "device_type" not in guest_definition
    assert "no device of its own" in explain_wait(guests[0]).summary  # the queue page's reason
    schedule()
    roles = {str(host.pk): "host", **{str(g.pk): "guest" for g in guests}}
    for job in (host, *guests):
        job = TestJob.objects.get(pk=job.pk)
        assert job.get_state_display() == "Scheduled"
        assert yaml.safe_load(job.definition)["protocols"]["lava-multinode"]["roles"] == roles
    assert state(guests[0]) == ("Scheduled", None)
    assert Device.objects.get(pk="qemu-01").get_state_display() == "Reserved"
    # the master starts the guests on the host device's worker
    sent = []
    master = Master(MasterConfig(bind="inproc://unused", events="inproc://unused-events"))
    master.send = lambda hostname, payload: sent.append((hostname, yaml.safe_load(payload)))
    master.send_pending([worker.hostname])
    assert sorted(message["job_id"] for _, message in sent) == sorted(j.pk for j in (host, *guests))
    assert {hostname for hostname, _ in sent} == {worker.hostname}
    device = yaml.safe_load(start_fields(TestJob.objects.get(pk=guests[0].pk))["device"])
    assert device["hostname"] == host_device.hostname
    assert device["actions"]["deploy"]["methods"]["ssh"]["port"] == 2022
    assert "commands" not in device and "qemu" not in device["actions"]["boot"]["methods"]
    # Running and Finished without a device; the host's device is untouched by its guests
    guest = TestJob.objects.get(pk=guests[0].pk)
    guest.go_state_running()
    guest.go_state_finished(JobHealth.COMPLETE)
    assert Device.objects.get(pk="qemu-01").get_state_display() == "Reserved"


def test_a_host_role_with_several_devices_is_refused(lab, user, worker):
    add_device(lab, "qemu-01", worker)
    add_device(lab, "qemu-02", worker)
    with pytest.raises(SubmissionError, match=r"roles.guest.host_role: the host role 'host' must have count: 1"):
        submit_job(ssh_guest_group(host_count=2), user)
    assert TestJob.objects.count() == 0


def test_a_device_an_admin_takes_away_after_planning_is_not_reserved(lab, user, worker):
    """apply_plans re-reads each device under its lock: one put in Maintenance since the pass read
    the lab keeps its state, and its job stays queued."""
    from lava_scheduler.scheduler.assign import apply_plans

    kept, taken = add_device(lab, "qemu-01", worker), add_device(lab, "qemu-02", worker)
    first, second = submit_job(job_yaml(), user)[0], submit_job(job_yaml(), user)[0]
    taken.go_health(DeviceHealth.MAINTENANCE, "rewiring")
    taken.save()
    assert apply_plans([(first.pk, kept.hostname), (second.pk, taken.hostname)]) == [first.pk]
    assert state(first) == ("Scheduled", "qemu-01") and state(second) == ("Submitted", None)
    assert Device.objects.get(pk="qemu-02").state == DeviceState.IDLE


def test_history_follows_deleted_devices_and_jobs(lab, user, worker):
    """The history's device and job links are not database constraints (lab 0003): deleting through
    Django still removes a device's rows and unlinks a job's."""
    from lava_scheduler.lab.models import DeviceTransition

    device, other = add_device(lab, "qemu-01", worker), add_device(lab, "qemu-02", worker)
    job = submit_job(job_yaml(), user)[0]
    assert schedule().scheduled == [job.pk]
    reserved = DeviceTransition.objects.get(reason=f"reserved for job {job.pk}")
    job_device = Device.objects.get(pk=TestJob.objects.get(pk=job.pk).actual_device_id)
    job_device.go_state_idle(reason="test")
    job_device.save()
    TestJob.objects.filter(pk=job.pk).update(state=JobState.FINISHED)
    TestJob.objects.filter(pk=job.pk).delete()
    assert DeviceTransition.objects.get(pk=reserved.pk).job_id is None
    gone = device if job_device.pk == device.pk else other
    gone.delete()
    assert not DeviceTransition.objects.filter(device_id=gone.pk).exists()
    assert DeviceTransition.objects.exclude(device_id__in=Device.objects.values("hostname")).count() == 0


def test_deleting_a_device_unlinks_its_jobs(lab, user, worker):
    """A job's device link is not a database constraint (jobs 0011): deleting the device through
    Django unlinks its job, as before."""
    device = add_device(lab, "qemu-01", worker)
    job = submit_job(job_yaml(), user)[0]
    assert schedule().scheduled == [job.pk]
    device.delete()
    assert state(job) == ("Scheduled", None)


@pytest.mark.django_db(transaction=True)
def test_a_device_deleted_while_reserved_leaves_no_job_naming_it(settings, tmp_path):
    """The deletion waits for the reservation's lock on the device; once the reservation commits, the
    database unlinks the job it missed (PostgreSQL's trigger of jobs 0011), never leaving it naming
    a device that is gone."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from lava_scheduler.scheduler.assign import apply_plans

    if connection.vendor != "postgresql":
        pytest.skip("one writer at a time on SQLite: no such race")
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.DEVICES_PATH.mkdir()
    DeviceType.objects.create(name="qemu")
    worker = Worker.objects.create(hostname="worker-1")
    worker.go_state_online()
    worker.save()
    add_device(tmp_path, "qemu-01", worker)
    job = submit_job(job_yaml(), User.objects.create(username="racer"))[0]
    reserved, release, deleted = threading.Event(), threading.Event(), threading.Event()

    def reserve():
        try:
            with transaction.atomic():
                assert apply_plans([(job.pk, "qemu-01")]) == [job.pk]
                reserved.set()
                release.wait(30)
        finally:
            connection.close()

    def delete():
        try:
            reserved.wait(30)
            Device.objects.get(pk="qemu-01").delete()  # Django finds no job yet, then waits for the lock
            deleted.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    try:
        assert reserved.wait(30)
        with connection.cursor() as cursor:
            for _ in range(300):  # until the deletion waits for the device's row
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.01)
            else:
                pytest.fail("the deletion never waited for the reservation's lock")
        assert not deleted.is_set()
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert deleted.is_set() and not Device.objects.exists()
    assert TestJob.objects.get(pk=job.pk).actual_device_id is None
