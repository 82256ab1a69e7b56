"""One scheduling pass: health checks first, then queued jobs, written in one transaction."""

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from lava_common.yaml_loader import dump_yaml, load_yaml
from lava_scheduler.events import wake_master
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device
from lava_scheduler.lab.states import DeviceHealth, DeviceState
from lava_scheduler.permissions.rules import SubmitRule
from lava_scheduler.publisher.emit import emit_devices, emit_jobs
from lava_scheduler.scheduler import device_checks
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


def plan_jobs(view: LabView, available: list[DeviceInfo]) -> list[tuple[int, str]]:
    """(job id, hostname) pairs: each device takes the first queued job of its type that fits
    and whose submitter may submit to it."""
    queues = queued_jobs({d.device_type for d in available})
    rule = SubmitRule.load({job.submitter for queue in queues.values() for job in queue})
    by_type: dict[str, list[DeviceInfo]] = {}
    for device in available:
        by_type.setdefault(device.device_type, []).append(device)
    plans = []
    for device_type in sorted(by_type):
        queue = queues.get(device_type)
        if not queue:
            continue
        devices = by_type[device_type]
        random.shuffle(devices)  # spread the wear, never always the same board
        for device in devices:
            load = view.workers[device.worker]
            if load.overused:
                continue
            for index, job in enumerate(queue):
                if _fits(job, device) and rule.allows(job.submitter, device.hostname, device.device_type):
                    plans.append((job.id, device.hostname))
                    del queue[index]
                    load.busy += 1
                    break
            if not queue:
                break
    return plans


def _mark_bad(hostname: str, reason: str) -> None:
    device = Device.objects.select_for_update().get(pk=hostname)
    if device.health not in (DeviceHealth.BAD, DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED):
        device.go_health(DeviceHealth.BAD, reason)
        device.save()


def _save_assignments(jobs: list[TestJob]) -> None:
    """Write state and device of many jobs in a few statements (Django's bulk_update is slow here)."""
    table = TestJob._meta.db_table
    for state in {job.state for job in jobs}:
        chunk_jobs = [job for job in jobs if job.state == state]
        for start in range(0, len(chunk_jobs), 500):
            chunk = chunk_jobs[start : start + 500]
            cases = " ".join("WHEN %s THEN %s" for _ in chunk)
            params: list = [value for job in chunk for value in (job.pk, job.actual_device_id)]
            params += [state, *[job.pk for job in chunk]]
            placeholders = ", ".join("%s" for _ in chunk)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET actual_device_id = CASE id {cases} END, state = %s "
                    f"WHERE id IN ({placeholders})",
                    params,
                )


@transaction.atomic
def apply_plans(plans: list[tuple[int, str]]) -> list[int]:
    """Reserve the planned devices; rows changed by someone else meanwhile are skipped."""
    if not plans:
        return []
    hostnames = sorted({hostname for _, hostname in plans})
    devices = {
        d.hostname: d
        for d in Device.objects.select_for_update().filter(hostname__in=hostnames, state=DeviceState.IDLE).order_by("hostname")
    }
    # a job row's definitions are most of its bytes, and nothing here reads them
    jobs = {
        j.pk: j
        for j in TestJob.objects.select_for_update()
        .filter(pk__in=[job_id for job_id, _ in plans], state=JobState.SUBMITTED, actual_device=None)
        .defer("definition", "original_definition", "multinode_definition", "metadata").order_by("pk")
    }
    changed_jobs, changed_devices = [], []
    for job_id, hostname in plans:
        job, device = jobs.get(job_id), devices.pop(hostname, None)
        if job is None or device is None:
            continue
        job.assign(device)
        changed_jobs.append(job)
        changed_devices.append(device)
    _save_assignments(changed_jobs)
    Device.save_states(changed_devices)
    emit_jobs(changed_jobs)  # raw UPDATEs above: no post_save to emit them
    emit_devices(changed_devices, {job.actual_device_id: job.pk for job in changed_jobs})
    for job in changed_jobs:
        job._remember_guarded()
    if changed_jobs:
        wake_master()
    return [job.pk for job in changed_jobs]


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
    """A MultiNode group starts when all its sub-jobs have a device: give each the roles map."""
    groups = set(TestJob.objects.filter(state=JobState.SCHEDULING).values_list("target_group", flat=True))
    for group in groups:
        with transaction.atomic():
            jobs = list(TestJob.objects.select_for_update().filter(target_group=group).order_by("pk"))
            if any(job.state != JobState.SCHEDULING for job in jobs):
                continue
            definitions = {job.pk: load_yaml(job.definition) for job in jobs}
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
