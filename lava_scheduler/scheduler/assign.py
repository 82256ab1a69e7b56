"""Reserving the planned devices for their jobs, hundreds at a time, in one transaction.

A pass may place a thousand jobs. Loading each job and device as a model,
calling its transition methods and saving it cost most of such a pass
(model instances, one history object per device), so this module locks and
reads plain rows, applies the same rules as ``TestJob.assign`` and
``Device.go_state_reserved`` (``state_once_assigned``, ``reserved_reason``)
and writes the job, device and history rows with one statement (on PostgreSQL).

The rows are locked (``SELECT ... FOR UPDATE``, in key order so that two
schedulers never deadlock) and re-read: a device that is no longer Idle (or
whose health an admin changed to one that takes no job) or a job that is no
longer queued, because another scheduler or an admin got there first, is
skipped, so two schedulers never double-book.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from lava_scheduler.events import wake_master
from lava_scheduler.jobs.models import TestJob, state_once_assigned
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import Device, DeviceTransition, reserved_reason
from lava_scheduler.lab.states import DeviceState
from lava_scheduler.publisher.emit import publish
from lava_scheduler.publisher.messages import device_json, event_time, frames, job_json, random_uuids
from lava_scheduler.scheduler.any_of import any_of, pg_array
from lava_scheduler.scheduler.lab_view import USABLE_HEALTH

JOB_FIELDS = ("id", "sub_id", "target_group", "description", "submitter_id", "requested_device_type_id",
              "health_check", "priority", "submit_time")
DEVICE_FIELDS = ("hostname", "device_type_id", "health", "worker_host_id")


@dataclass(slots=True)
class AssignedJob:
    """What the job and device events need of a job just placed (the fields of ``TestJob`` they read)."""

    id: int
    sub_id: str
    target_group: str
    description: str
    submitter_id: int
    requested_device_type_id: str | None
    health_check: bool
    priority: int
    submit_time: datetime
    state: int = JobState.SUBMITTED
    health: int = JobHealth.UNKNOWN
    actual_device_id: str | None = None
    start_time: None = None
    end_time: None = None

    @property
    def display_id(self) -> str:
        return self.sub_id or str(self.id)


@dataclass(slots=True)
class ReservedDevice:
    hostname: str
    device_type_id: str
    health: int
    worker_host_id: str | None
    state: int = DeviceState.RESERVED


@transaction.atomic
def apply_plans(plans: list[tuple[int, str]]) -> list[int]:
    """Reserve the planned (job id, hostname) pairs; rows changed by someone else meanwhile are skipped."""
    if not plans:
        return []
    hostnames, job_ids = {hostname for _, hostname in plans}, [job_id for job_id, _ in plans]
    lock = _lock_postgresql if connection.vendor == "postgresql" else _lock_portable
    device_rows, job_rows = lock(hostnames, job_ids)
    devices = {row[0]: ReservedDevice(*row) for row in device_rows}
    jobs = {row[0]: AssignedJob(*row) for row in job_rows}
    placed: list[tuple[AssignedJob, ReservedDevice]] = []
    for job_id, hostname in plans:
        job, device = jobs.get(job_id), devices.pop(hostname, None)
        if job is None or device is None:
            continue
        job.actual_device_id, job.state = hostname, state_once_assigned(job.target_group)
        placed.append((job, device))
    if not placed:
        return []
    _write(placed, timezone.now())
    _emit(placed)
    wake_master()
    return [job.id for job, _ in placed]


# the rows to reserve, locked devices first then jobs, each in key order (two schedulers never
# deadlock), those still free only
LOCK_DEVICES_SQL = f"""
SELECT {", ".join(DEVICE_FIELDS)} FROM {{devices}}
WHERE hostname = ANY(%s::varchar[]) AND state = %s AND health = ANY(%s::integer[])
ORDER BY hostname FOR UPDATE
"""
LOCK_JOBS_SQL = f"""
SELECT {", ".join(JOB_FIELDS)} FROM {{jobs}}
WHERE id = ANY(%s::bigint[]) AND state = %s AND actual_device_id IS NULL
ORDER BY id FOR UPDATE
"""


def _lock_postgresql(hostnames: set[str], job_ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    # plain statements: the ORM's querysets cost 1.3 ms more for the thousand rows of a busy pass
    with connection.cursor() as cursor:
        cursor.execute(LOCK_DEVICES_SQL.format(devices=Device._meta.db_table),
                       [pg_array(hostnames), DeviceState.IDLE, pg_array(map(int, USABLE_HEALTH))])
        devices = cursor.fetchall()
        cursor.execute(LOCK_JOBS_SQL.format(jobs=TestJob._meta.db_table), [pg_array(job_ids), JobState.SUBMITTED])
        return devices, cursor.fetchall()


def _lock_portable(hostnames: set[str], job_ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    devices = Device.objects.select_for_update().filter(
        any_of("hostname", hostnames), state=DeviceState.IDLE, health__in=USABLE_HEALTH
    ).order_by("hostname").values_list(*DEVICE_FIELDS)
    jobs = TestJob.objects.select_for_update().filter(
        any_of("pk", job_ids), state=JobState.SUBMITTED, actual_device=None
    ).order_by("pk").values_list(*JOB_FIELDS)
    return list(devices), list(jobs)


def _write(placed: list[tuple[AssignedJob, ReservedDevice]], now: datetime) -> None:
    jobs_table, devices_table = TestJob._meta.db_table, Device._meta.db_table
    history_table = DeviceTransition._meta.db_table
    created = connection.ops.adapt_datetimefield_value(now)  # SQLite keeps text
    hostnames = [device.hostname for _, device in placed]
    reasons = [reserved_reason(job.id) for job, _ in placed]
    job_ids = [job.id for job, _ in placed]
    history_columns = "device_id, created, field, old_value, new_value, reason, job_id"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # one statement for the three tables whatever the number of rows: array literals, not
            # thousands of placeholders, and one round trip
            cursor.execute(
                "WITH placed AS (SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::integer[], %s::text[]) "
                "AS placed(job, device, state, reason)), "
                f"jobs AS (UPDATE {jobs_table} AS job SET actual_device_id = placed.device, state = placed.state "
                "FROM placed WHERE job.id = placed.job), "
                f"devices AS (UPDATE {devices_table} AS device SET state = %s FROM placed "
                "WHERE device.hostname = placed.device) "
                f"INSERT INTO {history_table} ({history_columns}) "
                "SELECT device, %s, 'state', %s, %s, reason, job FROM placed",
                [pg_array(job_ids), pg_array(hostnames), pg_array([job.state for job, _ in placed]),
                 pg_array(reasons), DeviceState.RESERVED, created, DeviceState.IDLE, DeviceState.RESERVED],
            )
        else:  # SQLite runs in process: one statement per row costs no round trip
            cursor.executemany(
                f"UPDATE {devices_table} SET state = %s WHERE hostname = %s",
                [(DeviceState.RESERVED, hostname) for hostname in hostnames],
            )
            cursor.executemany(
                f"UPDATE {jobs_table} SET actual_device_id = %s, state = %s WHERE id = %s",
                [(job.actual_device_id, job.state, job.id) for job, _ in placed],
            )
            cursor.executemany(
                f"INSERT INTO {history_table} ({history_columns}) VALUES (%s, %s, 'state', %s, %s, %s, %s)",
                [(hostname, created, DeviceState.IDLE, DeviceState.RESERVED, reason, job_id)
                 for hostname, reason, job_id in zip(hostnames, reasons, job_ids, strict=True)],
            )


def _emit(placed: list[tuple[AssignedJob, ReservedDevice]]) -> None:
    """The job and device events of a plain save (the rows were written without models: no post_save)."""
    if not settings.EVENT_NOTIFICATION:
        return
    usernames = dict(
        get_user_model().objects.filter(pk__in={job.submitter_id for job, _ in placed}).values_list("pk", "username")
    )
    messages, when, uuids = [], event_time(), iter(random_uuids(2 * len(placed)))
    for job, device in placed:
        username = usernames.get(job.submitter_id, "")
        messages.append(frames("testjob", username, job_json(job, username, device.worker_host_id), when, next(uuids)))
        messages.append(frames("device", "", device_json(device, str(job.id)), when, next(uuids)))
    publish(messages)
