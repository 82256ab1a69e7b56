"""A snapshot of what a scheduling pass needs, read with a handful of queries.

The reference re-read each queue per device and checked permissions per job
(42,700 queries for 1,000 devices); here a pass reads workers, devices with
their tags, and queued jobs with theirs once each, decides in memory, and
writes in bulk.
"""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth, DeviceState, WorkerHealth, WorkerState
from lava_scheduler.scheduler.any_of import any_of, pg_array

USABLE_HEALTH = (DeviceHealth.GOOD, DeviceHealth.UNKNOWN, DeviceHealth.LOOPING)


@dataclass(slots=True)
class DeviceInfo:
    hostname: str
    device_type: str
    health: int
    worker: str
    tags: frozenset[int] = frozenset()


@dataclass(slots=True)
class QueuedJob:
    id: int
    device_type: str
    device: str | None
    worker: str | None
    submitter: int = 0
    tags: frozenset[int] = frozenset()


@dataclass
class WorkerLoad:
    job_limit: int
    busy: int = 0

    @property
    def overused(self) -> bool:
        return self.job_limit > 0 and self.busy >= self.job_limit


@dataclass
class LabView:
    workers: dict[str, WorkerLoad] = field(default_factory=dict)
    idle_devices: list[DeviceInfo] = field(default_factory=list)

    @classmethod
    def read(cls) -> "LabView":
        view = cls()
        eligible = Worker.objects.filter(state=WorkerState.ONLINE, health=WorkerHealth.ACTIVE)
        view.workers = {hostname: WorkerLoad(limit) for hostname, limit in eligible.values_list("hostname", "job_limit")}
        if not view.workers:
            return view
        busy = Device.objects.filter(
            any_of("worker_host", view.workers), state__in=(DeviceState.RESERVED, DeviceState.RUNNING)
        ).values_list("worker_host").annotate(count=Count("*")).order_by()
        for hostname, count in busy:
            view.workers[hostname].busy = count
        read = _idle_devices_postgresql if connection.vendor == "postgresql" else _idle_devices_portable
        view.idle_devices = read(view.workers)
        return view


# the idle devices on these workers, each with its tags, in one statement
IDLE_DEVICES_SQL = """
SELECT device.hostname, device.device_type_id, device.health, device.worker_host_id,
       ARRAY(SELECT tag_id FROM {tags} WHERE device_id = device.hostname)
FROM {devices} AS device JOIN {types} AS type ON type.name = device.device_type_id
WHERE device.state = %s AND device.health = ANY(%s::integer[]) AND type.display
      AND device.worker_host_id = ANY(%s::varchar[])
ORDER BY device.hostname
"""


def _idle_devices_postgresql(workers: Collection[str]) -> list[DeviceInfo]:
    sql = IDLE_DEVICES_SQL.format(devices=Device._meta.db_table, types=DeviceType._meta.db_table,
                                  tags=Device.tags.through._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [DeviceState.IDLE, pg_array(map(int, USABLE_HEALTH)), pg_array(workers)])
        rows = cursor.fetchall()
    return [DeviceInfo(*row[:4], frozenset(row[4])) if row[4] else DeviceInfo(*row[:4]) for row in rows]


def _idle_devices_portable(workers: Collection[str]) -> list[DeviceInfo]:
    idle = Q(state=DeviceState.IDLE, health__in=USABLE_HEALTH, device_type__display=True) & any_of(
        "worker_host", workers
    )
    rows = Device.objects.filter(idle).order_by("hostname").values_list(
        "hostname", "device_type", "health", "worker_host"
    )
    devices = [DeviceInfo(*row) for row in rows]
    tags = defaultdict(set)
    # the idle devices' tags by the same condition, not by a list of a thousand hostnames
    through = Device.tags.through.objects.filter(device__in=Device.objects.filter(idle).values("hostname"))
    for hostname, tag in through.values_list("device_id", "tag_id"):
        tags[hostname].add(tag)
    for device in devices:
        if device.hostname in tags:
            device.tags = frozenset(tags[device.hostname])
    return devices


QUEUE_ORDER = (F("priority").desc(), F("submit_time").asc(), F("sub_id").asc(), F("id").asc())


# PostgreSQL reads only the wanted places of each type's queue, in order from the index job_queue,
# with each job's tags
QUEUE_HEADS_SQL = """
SELECT job.id, job.requested_device_type_id, job.requested_device_id, job.requested_worker_id, job.submitter_id,
       ARRAY(SELECT tag_id FROM {tags} WHERE testjob_id = job.id)
FROM unnest(%s::varchar[]) AS queue(device_type)
CROSS JOIN LATERAL (
    SELECT id, requested_device_type_id, requested_device_id, requested_worker_id, submitter_id FROM {jobs}
    WHERE requested_device_type_id = queue.device_type AND state = %s AND actual_device_id IS NULL
    ORDER BY priority DESC, submit_time, sub_id, id
    LIMIT %s OFFSET %s
) AS job
"""


def queued_jobs(device_types: set[str], after: int = 0, upto: int | None = None) -> dict[str, list[QueuedJob]]:
    """Submitted jobs per requested device type, in the order they should run; with ``upto``, only
    the places ``after`` + 1 to ``upto`` of each type's queue (a pass rarely looks further than a few
    jobs per idle device), else all from ``after`` + 1."""
    jobs = _queue_postgresql(device_types, after, upto) if connection.vendor == "postgresql" else _queue_portable(
        device_types, after, upto
    )
    queues: dict[str, list[QueuedJob]] = defaultdict(list)
    for job in jobs:
        queues[job.device_type].append(job)
    return queues


def _queue_postgresql(device_types: set[str], after: int, upto: int | None) -> list[QueuedJob]:
    sql = QUEUE_HEADS_SQL.format(jobs=TestJob._meta.db_table, tags=TestJob.tags.through._meta.db_table)
    limit = None if upto is None else upto - after  # LIMIT NULL: no limit
    with connection.cursor() as cursor:
        cursor.execute(sql, [pg_array(sorted(device_types)), JobState.SUBMITTED, limit, after])
        rows = cursor.fetchall()
    return [QueuedJob(*row[:5], frozenset(row[5])) if row[5] else QueuedJob(*row[:5]) for row in rows]


def _queue_portable(device_types: set[str], after: int, upto: int | None) -> list[QueuedJob]:
    fields = ("id", "requested_device_type", "requested_device", "requested_worker", "submitter_id")
    # the columns are chosen before the window: the database then sorts narrow rows, not whole jobs
    rows = TestJob.objects.filter(
        state=JobState.SUBMITTED, requested_device_type__in=device_types, actual_device=None
    ).values_list(*fields)
    if after or upto is not None:
        rows = rows.annotate(
            place=Window(RowNumber(), partition_by=[F("requested_device_type")], order_by=QUEUE_ORDER)
        ).filter(place__gt=after)
        if upto is not None:
            rows = rows.filter(place__lte=upto)
    jobs = [QueuedJob(*row[: len(fields)]) for row in rows.order_by(*QUEUE_ORDER)]
    tags = defaultdict(set)
    if jobs:
        through = TestJob.tags.through.objects.filter(any_of("testjob_id", [job.id for job in jobs]))
        for job_id, tag in through.values_list("testjob_id", "tag_id"):
            tags[job_id].add(tag)
    for job in jobs:
        if job.id in tags:
            job.tags = frozenset(tags[job.id])
    return jobs
