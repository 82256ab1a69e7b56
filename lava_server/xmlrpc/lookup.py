"""Finding the objects a call names, with the faults lavacli expects (404 for unknown or invisible)."""

import functools
import re
import zlib
from typing import Any

from django.db import connection

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.permissions.rules import visible_device_types, visible_devices, visible_workers
from lava_scheduler.prepared import fetch_one
from lava_server.xmlrpc.registry import Context, fault

# ASCII digits only ("²" is a digit to str.isdigit, not to int), and short enough for a database integer
_JOB_ID = re.compile(r"([0-9]{1,18})(\.[0-9]{1,9})?\Z")


def job_filter(job_id: Any) -> dict[str, Any]:
    """Query arguments for a job id as lavacli sends it: "12", 12, or a MultiNode "12.1"."""
    match = _JOB_ID.match(str(job_id).strip())
    if match is None:
        raise fault(400, f"Invalid job id '{job_id}': expected a number such as 42 (or 42.1 for MultiNode)")
    if match.group(2):
        return {"sub_id": match.group(0)}
    return {"pk": int(match.group(1))}


@functools.cache
def _job_columns_query(key: str, fields: tuple[str, ...]) -> tuple[str, str, list[str]]:
    """A name to prepare it under, the query, and the attributes it reads."""
    meta = TestJob._meta
    wanted = {meta.pk.attname, *(meta.get_field(name).attname for name in fields)}
    # in the model's field order: Model.from_db() pairs values with fields in that order
    loaded = [field for field in meta.concrete_fields if field.attname in wanted]
    attnames = [field.attname for field in loaded]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in loaded)
    where = connection.ops.quote_name((meta.pk if key == "pk" else meta.get_field(key)).column)
    sql = f"SELECT {columns} FROM {connection.ops.quote_name(meta.db_table)} WHERE {where} = %(value)s"
    return f"job_columns_{zlib.crc32(sql.encode()):08x}", sql, attnames


def _job_columns(where: dict[str, Any], fields: tuple[str, ...]) -> TestJob | None:
    """The job with only ``fields`` loaded (as ``.only()``), from a query written once and, on PostgreSQL,
    planned once per database session: building it through the ORM cost four times the query, and
    PostgreSQL planned it for longer than it ran it (0.05 ms against 0.01), on every call of a
    log-following loop."""
    ((key, value),) = where.items()
    name, sql, attnames = _job_columns_query(key, fields)
    row = fetch_one(name, sql, {"value": value})
    return None if row is None else TestJob.from_db(connection.alias, attnames, row)


def _plainly_visible(job: TestJob, user) -> bool:
    """Cases the visibility rule grants without a query: superusers and the submitter.

    A public job is not one of them: its device may be restricted (group permissions).
    """
    return user.is_authenticated and (user.is_superuser or job.submitter_id == user.pk)


def visible_job(ctx: Context, job_id: Any, related: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> TestJob:
    """The job if the caller may see it; Fault 404 otherwise (a hidden job looks like a missing one).

    One query for the common cases; anything else is decided by the shared rule
    (``visible_jobs``), which stays the single authority.
    """
    where = job_filter(job_id)
    # PostgreSQL's rows come typed; other databases' need the ORM's converters (SQLite's dates are text)
    if only and not related and connection.vendor == "postgresql":
        job = _job_columns(where, only)
    else:
        jobs = TestJob.objects.filter(**where)
        if related:
            jobs = jobs.select_related(*related)
        if only:
            jobs = jobs.only(*only)
        job = jobs.first()
    if job is None or not (
        _plainly_visible(job, ctx.user) or visible_jobs(ctx.user, TestJob.objects.filter(pk=job.pk)).exists()
    ):
        raise fault(404, f"Job '{job_id}' was not found.")
    return job


def device(hostname: Any, ctx: Context) -> Device:
    """The device the caller may see (an unseen one is answered as unknown)."""
    devices = visible_devices(ctx.user, Device.objects.select_related("device_type", "worker_host"))
    found = devices.filter(hostname=str(hostname)).first()
    if found is None:
        raise fault(404, f"Device '{hostname}' was not found.")
    return found


def device_type(name: Any, ctx: Context) -> DeviceType:
    """The device type the caller may see (an unseen one is answered as unknown)."""
    found = visible_device_types(ctx.user).filter(name=str(name)).first()
    if found is None:
        raise fault(404, f"Device-type '{name}' was not found.")
    return found


def worker(hostname: Any, ctx: Context) -> Worker:
    """The worker the caller may see (an unseen one is answered as unknown)."""
    found = visible_workers(ctx.user).filter(hostname=str(hostname)).first()
    if found is None:
        raise fault(404, f"Worker '{hostname}' was not found.")
    return found


def parse_label(choices, value: Any, what: str) -> int:
    """An enum value from an UPPERCASE name (as lavacli sends) or a display name."""
    text = str(value).strip().lower()
    for number, label in choices.choices:
        if text == label.lower():
            return number
    known = ", ".join(label.upper() for _, label in choices.choices)
    raise fault(400, f"Invalid {what} '{value}': expected one of {known}")
