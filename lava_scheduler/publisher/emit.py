"""Emitting events when jobs, devices and workers change, and when test cases arrive.

``post_save`` receivers catch every change made through a transition method
(the state and health the model read from the database differ from the ones
saved) and every new job; the scheduler's bulk assignment and the results
writer call ``emit_*`` themselves. Messages leave once the transaction
commits, never for a change that was rolled back.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from lava_scheduler.events import send_messages
from lava_scheduler.jobs.models import UNFINISHED, TestJob
from lava_scheduler.lab.models import Device, Worker
from lava_scheduler.publisher import messages

User = get_user_model()


def _changed(instance) -> bool:
    saved = getattr(instance, "_guarded_saved", None)
    if saved is None:
        return True
    return any(saved.get(name) != getattr(instance, name) for name in instance.GUARDED_FIELDS)


def publish(all_frames: list[messages.Frames]) -> None:
    if not settings.EVENT_NOTIFICATION or not all_frames:
        return
    address = settings.EVENT_INTERNAL
    transaction.on_commit(lambda: send_messages(address, all_frames))


def emit_jobs(jobs: list[TestJob]) -> None:
    if not settings.EVENT_NOTIFICATION or not jobs:
        return
    # two queries at most for the lot: the scheduler emits for hundreds of jobs at once; a job just
    # submitted already holds its submitter
    usernames = {j.submitter_id: j.submitter.username for j in jobs if TestJob.submitter.is_cached(j)}
    unknown = {j.submitter_id for j in jobs} - usernames.keys()
    if unknown:
        usernames |= dict(User.objects.filter(pk__in=unknown).values_list("pk", "username"))
    devices = {j.actual_device_id for j in jobs if j.actual_device_id}
    workers = dict(Device.objects.filter(pk__in=devices).values_list("hostname", "worker_host_id")) if devices else {}
    publish([
        messages.frames(
            "testjob", usernames.get(job.submitter_id, ""),
            messages.job_json(job, usernames.get(job.submitter_id, ""), workers.get(job.actual_device_id)),
        )
        for job in jobs
    ])


def emit_devices(devices: list[Device], current_jobs: dict[str, int] | None = None) -> None:
    """Device events; ``current_jobs`` (hostname -> job id) spares a query when the caller knows them."""
    if not settings.EVENT_NOTIFICATION or not devices:
        return
    running = current_jobs
    if running is None:
        running = dict(
            TestJob.objects.filter(UNFINISHED, actual_device__in=[d.hostname for d in devices])
            .values_list("actual_device_id", "id")
        )
    publish([
        messages.frames("device", "", messages.device_json(device, str(running.get(device.hostname) or "")))
        for device in devices
    ])


def emit_test_cases(job: TestJob, cases) -> None:
    """Test cases just stored for ``job`` (their suites are in memory: no query)."""
    if not settings.EVENT_NOTIFICATION or not cases:
        return
    username = User.objects.filter(pk=job.submitter_id).values_list("username", flat=True).first() or ""
    publish([
        messages.frames("testcase", username, messages.to_json(messages.test_case_data(job, case.suite.name, case)))
        for case in cases
    ])


@receiver(post_save, sender=TestJob, dispatch_uid="lava-events-job")
def _job_saved(sender, instance: TestJob, created: bool, raw: bool = False, **_) -> None:
    if not raw and (created or _changed(instance)):
        emit_jobs([instance])


@receiver(post_save, sender=Device, dispatch_uid="lava-events-device")
def _device_saved(sender, instance: Device, created: bool, raw: bool = False, **_) -> None:
    if not raw and (created or _changed(instance)):
        emit_devices([instance])


@receiver(post_save, sender=Worker, dispatch_uid="lava-events-worker")
def _worker_saved(sender, instance: Worker, created: bool, raw: bool = False, **_) -> None:
    if not raw and (created or _changed(instance)):
        publish([messages.frames("worker", "", messages.to_json(messages.worker_data(instance)))])
