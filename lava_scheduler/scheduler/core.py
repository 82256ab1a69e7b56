"""One scheduling pass: health checks first, then queued jobs, written in one transaction."""

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from lava_common.yaml_loader import dump_yaml, load_yaml
from lava_scheduler.events import wake_master
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.permissions.rules import SubmitRule
from lava_scheduler.scheduler import device_checks
from lava_scheduler.scheduler.assign import apply_plans
from lava_scheduler.scheduler.health_checks import config_error, due_health_checks, make_health_check
from lava_scheduler.scheduler.lab_view import DeviceInfo, LabView, QueuedJob, queued_jobs

log = logging.getLogger("lava-scheduler")


@dataclass
class PassSummary:
    health_checks: list[int] = field(default_factory=list)
    scheduled: list[int] = field(default_factory=list)
    bad_devices: list[str] = field(default_factory=list)
    timed_out: list[int] = field(default_factory=list)


def _fits(job: QueuedJob, device: DeviceInfo) -> bool:
    return (
        job.tags <= device.tags
        and (job.device is None or job.device == device.hostname)
        and (job.worker is None or job.worker == device.worker)
    )


def _take(queue: list[QueuedJob], device: DeviceInfo, rule: SubmitRule) -> QueuedJob | None:
    """The first job of the queue that fits the device and whose submitter may use it, out of the queue."""
    for index, job in enumerate(queue):
        if _fits(job, device) and rule.allows(job.submitter, device.hostname, device.device_type):
            return queue.pop(index)
    return None


def _place(view: LabView, devices: list[DeviceInfo], queue: list[QueuedJob], rule: SubmitRule,
           plans: list[tuple[int, str]]) -> list[DeviceInfo]:
    """Give each device (in turn) its job from the queue; returns the devices that found none."""
    left = []
    for device in devices:
        load = view.workers[device.worker]
        if load.overused:
            continue
        job = _take(queue, device, rule) if queue else None
        if job is None:
            left.append(device)
            continue
        plans.append((job.id, device.hostname))
        load.busy += 1
    return left


def plan_jobs(view: LabView, available: list[DeviceInfo]) -> list[tuple[int, str]]:
    """(job id, hostname) pairs: each device takes the first queued job of its type that fits
    and whose submitter may submit to it."""
    by_type: dict[str, list[DeviceInfo]] = {}
    for device in available:
        by_type.setdefault(device.device_type, []).append(device)
    if not by_type:
        return []
    # the head of each queue first; the types whose head leaves a device without a job read the rest
    window = 2 * max(len(devices) for devices in by_type.values()) + 8
    queues = queued_jobs(set(by_type), upto=window)
    submitters = {job.submitter for queue in queues.values() for job in queue}
    rule = SubmitRule.load(submitters)
    plans: list[tuple[int, str]] = []
    left: dict[str, list[DeviceInfo]] = {}
    for device_type in sorted(by_type):
        devices = by_type[device_type]
        random.shuffle(devices)  # spread the wear, never always the same board
        queue = queues.get(device_type, [])
        truncated = len(queue) == window
        unplaced = _place(view, devices, queue, rule, plans)
        if unplaced and truncated:
            left[device_type] = unplaced
    if left:
        rest = queued_jobs(set(left), after=window)
        if not submitters.issuperset(job.submitter for queue in rest.values() for job in queue):
            rule = SubmitRule.load(submitters | {job.submitter for queue in rest.values() for job in queue})
        for device_type in sorted(left):
            _place(view, left[device_type], queues.get(device_type, []) + rest.get(device_type, []), rule, plans)
    return plans


def _mark_bad(hostname: str, reason: str) -> None:
    device = Device.objects.select_for_update().get(pk=hostname)
    if device.health not in (DeviceHealth.BAD, DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED):
        device.go_health(DeviceHealth.BAD, reason)
        device.save()


def schedule_health_checks(view: LabView, now: datetime, summary: PassSummary) -> list[DeviceInfo]:
    """Start due health checks; returns the devices left for normal jobs."""
    due = due_health_checks(view.idle_devices, now)
    available = []
    for device in view.idle_devices:
        load = view.workers[device.worker]
        if device.hostname not in due:
            # Looping devices only ever run health checks; Unknown ones wait for theirs
            if device.health != DeviceHealth.LOOPING:
                available.append(device)
            continue
        if load.overused:
            continue
        error = config_error(device.hostname)
        with transaction.atomic():
            if error:
                _mark_bad(device.hostname, f"invalid device configuration: {error}")
                summary.bad_devices.append(device.hostname)
                continue
            try:
                job = make_health_check(device.hostname, device.device_type, due[device.hostname])
            except ValueError as exc:
                _mark_bad(device.hostname, f"invalid health check: {exc}")
                summary.bad_devices.append(device.hostname)
                continue
            summary.health_checks += apply_plans([(job.pk, device.hostname)])
        load.busy += 1
    return available


def transition_multinode_groups() -> None:
    """A MultiNode group starts when all its sub-jobs have a device (dynamic connections have none:
    they ride on their host's): give each the roles map of every member."""
    groups = set(TestJob.objects.filter(state=JobState.SCHEDULING).values_list("target_group", flat=True))
    for group in groups:
        with transaction.atomic():
            jobs = list(TestJob.objects.select_for_update().filter(target_group=group).order_by("pk"))
            waiting = [job for job in jobs if not (job.is_dynamic_connection and job.state == JobState.SUBMITTED)]
            if any(job.state != JobState.SCHEDULING for job in waiting):
                continue
            definitions = {job.pk: load_yaml(job.definition) for job in jobs}
            # the guests are members at the coordinator too (lava-sync counts them): they are in the map
            roles = {str(pk): data["protocols"]["lava-multinode"]["role"] for pk, data in definitions.items()}
            for job in jobs:
                data = definitions[job.pk]
                data["protocols"]["lava-multinode"]["roles"] = roles
                job.definition = dump_yaml(data)
                job.go_state_scheduled()
            wake_master()


def cancel_timed_out(now: datetime, summary: PassSummary) -> None:
    """Queued jobs past their queue timeout are canceled (a MultiNode group as a whole)."""
    waiting = TestJob.objects.filter(state=JobState.SUBMITTED, queue_timeout__isnull=False)
    # compared in Python: portable between SQLite and PostgreSQL, and few jobs carry a queue timeout
    for job in waiting.only("pk", "submit_time", "queue_timeout", "target_group"):
        if (now - job.submit_time).total_seconds() <= job.queue_timeout:
            continue
        with transaction.atomic():
            group = [job.pk] if not job.target_group else list(
                TestJob.objects.filter(target_group=job.target_group).values_list("pk", flat=True)
            )
            for locked in TestJob.objects.select_for_update().filter(pk__in=group).exclude(state=JobState.FINISHED):
                locked.cancel(f"queue timeout: not started within {job.queue_timeout} s")
                summary.timed_out.append(locked.pk)


def schedule() -> PassSummary:
    now = timezone.now()
    summary = PassSummary()
    device_checks.start_pass()
    view = LabView.read()
    available = schedule_health_checks(view, now, summary)
    plans = plan_jobs(view, available)
    for hostname in {hostname for _, hostname in plans}:
        error = config_error(hostname)
        if error:
            plans = [(j, h) for j, h in plans if h != hostname]
            with transaction.atomic():
                _mark_bad(hostname, f"invalid device configuration: {error}")
            summary.bad_devices.append(hostname)
    summary.scheduled = apply_plans(plans)
    transition_multinode_groups()
    cancel_timed_out(now, summary)
    device_checks.end_pass()
    return summary
