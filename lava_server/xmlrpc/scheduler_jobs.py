"""``scheduler.jobs.*``: submit, validate, inspect, follow and cancel jobs."""

import xmlrpc.client
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from lava_common.schemas import JobSchemaError, validate_job_text
from lava_scheduler.events import wake_master
from lava_scheduler.jobs.masking import readable_definition
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.jobs.submission import SubmissionError, resubmit_job, submit_job
from lava_scheduler.jobs.visibility import can_change, visible_jobs
from lava_scheduler.lab.config_access import can_read_job_configuration
from lava_scheduler.lab.states import TransitionError
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_server.xmlrpc.lookup import parse_label, visible_job
from lava_server.xmlrpc.marshal import EscapedText, escape_bytes
from lava_server.xmlrpc.registry import (
    Context,
    as_bool,
    as_int,
    as_text,
    fault,
    method,
    naive_utc,
    require_right,
    require_user,
    text_or_none,
)

MAX_LIST = 100
# bytes an XML-RPC string cannot carry (our log records escape them, other writers may not),
# and "\r", which XML parsers turn into "\n"; bytes.translate finds them ~30x faster than a regex
XML_UNSAFE_BYTES = bytes([*range(0, 9), 11, 12, *range(13, 32)])
XML_SAFE_BYTES = bytes(b for b in range(256) if b not in XML_UNSAFE_BYTES)


def _xml_unsafe(raw: bytes) -> bool:
    """Whether ``raw`` holds a byte or a character (U+FFFE, U+FFFF) that an XML-RPC string cannot carry."""
    if raw.translate(None, XML_SAFE_BYTES):
        return True
    # the noncharacters are EF BF BE and EF BF BF: a one-byte search (memchr) first, as a
    # three-byte one scanned a 1,000-line range in 0.2 ms, more than the rest of the call
    return b"\xef" in raw and (b"\xef\xbf\xbe" in raw or b"\xef\xbf\xbf" in raw)


def _ids(jobs: list[TestJob]) -> int | list[str]:
    """A job's id; a MultiNode group's sub-job ids ("12.0", "12.1"), as the reference returns them."""
    return jobs[0].pk if not jobs[0].sub_id else [job.sub_id for job in jobs]


def _submission_fault(exc: Exception) -> xmlrpc.client.Fault:
    errors = getattr(exc, "errors", None) or [str(exc)]
    return fault(400, "Problem with submitted job data: " + "; ".join(errors))


@method("scheduler.jobs.submit")
def submit(ctx: Context, definition: Any) -> int | list[str]:
    """Submit a job definition (YAML); returns the job id, or the sub-job ids of a MultiNode group."""
    user = require_user(ctx)
    try:
        return _ids(submit_job(as_text(definition, "definition"), user))
    except (SubmissionError, ValueError) as exc:
        raise _submission_fault(exc) from None


@method("scheduler.submit_job")
def submit_job_legacy(ctx: Context, definition: Any) -> int | list[str]:
    """Old name of scheduler.jobs.submit."""
    return submit(ctx, definition)


@method("scheduler.jobs.validate")
def validate(ctx: Context, definition: Any, strict: Any = False) -> dict[str, str]:
    """Check a definition against the schema: an empty struct when valid, else ``{path, msg}``."""
    from django.conf import settings

    text = as_text(definition, "definition")
    try:
        validate_job_text(text, as_bool(strict, "strict"), settings.EXTRA_CONTEXT_VARIABLES)
    except JobSchemaError as exc:
        issue = exc.errors[0] if exc.errors else None
        if issue is None:
            return {"path": "", "msg": str(exc)}
        extra = len(exc.errors) - 1
        more = f" (and {extra} more: {'; '.join(str(e) for e in exc.errors[1:4])})" if extra else ""
        return {"path": issue.path, "msg": issue.message + more}
    return {}


@method("scheduler.jobs.resubmit")
def resubmit(ctx: Context, job_id: Any) -> int | list[str]:
    """Submit a job's definition again; returns the new id (or the new sub-job ids for MultiNode)."""
    user = require_user(ctx)
    job = visible_job(ctx, job_id)
    if not can_change(job, user):
        raise fault(403, f"Permission denied: '{user.username}' may not resubmit job {job.display_id}")
    try:
        return _ids(resubmit_job(job, user))
    except (SubmissionError, ValueError) as exc:
        raise _submission_fault(exc) from None


@method("scheduler.jobs.cancel")
def cancel(ctx: Context, job_id: Any) -> None:
    """Cancel a job: a queued job ends at once, a running one once its worker has stopped it."""
    user = require_user(ctx)
    job = visible_job(ctx, job_id)
    if not can_change(job, user):
        raise fault(403, f"Permission denied: '{user.username}' may not cancel job {job.display_id}")
    with transaction.atomic():
        job = TestJob.objects.select_for_update().get(pk=job.pk)
        if job.state in (JobState.CANCELING, JobState.FINISHED):
            return None  # already done: canceling twice is not an error
        try:
            job.cancel(f"canceled by {user.username}")
        except TransitionError as exc:
            raise fault(400, str(exc)) from None
        wake_master("cancel")
    return None


@method("scheduler.cancel_job")
def cancel_job_legacy(ctx: Context, job_id: Any) -> bool:
    """Old name of scheduler.jobs.cancel (returns true)."""
    cancel(ctx, job_id)
    return True


@method("scheduler.jobs.definition")
def definition(ctx: Context, job_id: Any) -> str:
    """The job definition as submitted (its secrets masked unless the caller is its submitter or an admin)."""
    job = visible_job(ctx, job_id)
    return readable_definition(job.original_definition or job.definition, job, ctx.user)


def visibility_label(job: TestJob, groups: list[str]) -> str:
    if groups:
        return f"Group ({', '.join(groups)})"
    return "Public" if job.is_public else "Personal"


def show_struct(job: TestJob) -> dict[str, Any]:
    groups = [group.name for group in job.viewing_groups.all()]
    return {
        "id": job.pk if not job.sub_id else job.sub_id,
        "description": job.description,
        "device": job.actual_device_id,
        "device_type": job.requested_device_type_id,
        "health_check": job.health_check,
        "pipeline": True,
        "health": job.get_health_display(),
        "state": job.get_state_display(),
        "submitter": job.submitter.username,
        "submit_time": naive_utc(job.submit_time),
        "start_time": naive_utc(job.start_time),
        "end_time": naive_utc(job.end_time),
        "tags": [tag.name for tag in job.tags.all()],
        "visibility": visibility_label(job, groups),
        "failure_comment": text_or_none(job.failure_comment),
        "error_type": text_or_none(job.error_type),
        "error_msg": text_or_none(job.error_msg),
        "priority": job.priority,
        "multinode": job.is_multinode,
        "metadata": job.metadata,
    }


@method("scheduler.jobs.show")
def show(ctx: Context, job_id: Any) -> dict[str, Any]:
    """A job's details (times are dateTime, unknown values nil)."""
    return show_struct(visible_job(ctx, job_id, ("submitter",)))


LOG_FIELDS = ("state", "submit_time", "submitter_id", "sub_id")


@method("scheduler.jobs.logs")
def logs(ctx: Context, job_id: Any, start: Any = 0, end: Any = None) -> list[Any]:
    """``[finished, log]``: log records ``start`` to ``end`` (excluded) as a YAML list, one record a line."""
    # a log read is called in a loop by lavacli: leave the definitions (the big columns) unread
    job = visible_job(ctx, job_id, only=LOG_FIELDS)
    # decided before reading: the read then holds every line a finished job will ever have
    finished = job.state == JobState.FINISHED
    store = LogStore(job_output_dir(job))
    first = as_int(start, "start", 0)
    last = None if end is None else as_int(end, "end")
    if first < 0 or (last is not None and last < 0):
        count = store.line_count()
        first = max(0, count + first) if first < 0 else first
        last = max(0, count + last) if last is not None and last < 0 else last
    raw = store.read_bytes(first, last)
    if _xml_unsafe(raw):
        # lavacli takes Binary or str; str is much cheaper to marshal, Binary carries anything
        return [finished, xmlrpc.client.Binary(raw)]
    # escaping bytes touches only ASCII: decoding afterwards replaces bad UTF-8 as decoding before would
    return [finished, EscapedText(escape_bytes(raw).decode("utf-8", errors="replace"))]


@method("scheduler.jobs.logs_count")
def logs_count(ctx: Context, job_id: Any) -> int:
    """How many log records the job has so far."""
    return LogStore(job_output_dir(visible_job(ctx, job_id))).line_count()


@method("scheduler.jobs.list")
def list_jobs(
    ctx: Context,
    state: Any = None,
    health: Any = None,
    start: Any = 0,
    limit: Any = 25,
    since: Any = 0,
    verbose: Any = False,
    duration_at_least: Any = None,
) -> list[dict[str, Any]]:
    """Jobs the caller may see, newest first (at most 100); ``since``/``duration_at_least`` in minutes."""
    jobs = TestJob.objects.all()
    if state:
        jobs = jobs.filter(state=parse_label(JobState, state, "state"))
    if health:
        jobs = jobs.filter(health=parse_label(JobHealth, health, "health"))
    now = timezone.now()
    if since:
        jobs = jobs.filter(end_time__gte=now - timedelta(minutes=as_int(since, "since")))
    if duration_at_least:
        jobs = jobs.filter(start_time__lte=now - timedelta(minutes=as_int(duration_at_least, "duration_at_least")))
    first = max(0, as_int(start, "start", 0))
    count = min(max(0, as_int(limit, "limit", 25)), MAX_LIST)
    fields = ["pk", "sub_id", "description", "requested_device_type_id", "health", "state", "submitter__username"]
    if as_bool(verbose, "verbose"):
        fields += ["actual_device_id", "start_time", "end_time", "error_msg", "error_type"]
    rows = visible_jobs(ctx.user, jobs).order_by("-pk").values(*fields)[first : first + count]
    result = []
    for row in rows:
        item = {
            "id": row["sub_id"] or row["pk"],
            "description": row["description"],
            "device_type": row["requested_device_type_id"],
            "health": JobHealth(row["health"]).label,
            "state": JobState(row["state"]).label,
            "submitter": row["submitter__username"],
        }
        if "start_time" in row:
            # plain strings: lavacli JSON-dumps this list
            item["actual_device"] = row["actual_device_id"]
            item["start_time"] = str(row["start_time"]) if row["start_time"] else None
            item["end_time"] = str(row["end_time"]) if row["end_time"] else None
            item["error_msg"] = text_or_none(row["error_msg"])
            item["error_type"] = text_or_none(row["error_type"])
        result.append(item)
    return result


@method("scheduler.jobs.queue")
def queue(ctx: Context, device_types: Any = None, start: Any = 0, limit: Any = 25) -> list[dict[str, Any]]:
    """Queued (Submitted) jobs the caller may see, oldest first, optionally for some device types."""
    jobs = TestJob.objects.filter(state=JobState.SUBMITTED)
    if device_types:
        if not isinstance(device_types, list):
            raise fault(400, "device_types: expected a list of device-type names")
        jobs = jobs.filter(requested_device_type__in=[str(name) for name in device_types])
    first = max(0, as_int(start, "start", 0))
    count = min(max(0, as_int(limit, "limit", 25)), MAX_LIST)
    rows = (
        visible_jobs(ctx.user, jobs)
        .order_by("-priority", "submit_time", "pk")
        .values("pk", "sub_id", "description", "requested_device_type_id", "submitter__username")[first : first + count]
    )
    return [
        {
            "id": row["sub_id"] or row["pk"],
            "description": row["description"],
            "requested_device_type": row["requested_device_type_id"],
            "submitter": row["submitter__username"],
        }
        for row in rows
    ]


@method("scheduler.jobs.configuration")
def configuration(ctx: Context, job_id: Any) -> list[Any]:
    """``[job, device, dispatcher, env, env-dut]`` as the job ran with them (nil when absent).

    They hold the lab's power commands and credentials: the right to change
    devices and workers is needed (and the job's secrets are for its submitter).
    """
    job = visible_job(ctx, job_id)
    require_right(ctx, can_read_job_configuration, "a job's configuration (needs the right to change devices and workers)")
    directory = job_output_dir(job)
    if not (directory / "device.yaml").exists():
        raise fault(404, f"Job '{job_id}' has not started: no configuration yet")
    result: list[Any] = []
    for name in ("job.yaml", "device.yaml", "dispatcher.yaml", "env.yaml", "env-dut.yaml"):
        path = directory / name
        data = path.read_bytes() if path.exists() else b""
        if name == "job.yaml" and data:
            data = readable_definition(data.decode("utf-8", errors="replace"), job, ctx.user).encode("utf-8")
        result.append(xmlrpc.client.Binary(data) if data else None)
    return result


@method("scheduler.job_health")
def job_health(ctx: Context, job_id: Any) -> dict[str, Any]:
    """Old API: ``{job_id, job_health}``."""
    job = visible_job(ctx, job_id)
    return {"job_id": job.pk, "job_health": job.get_health_display()}


@method("scheduler.job_state")
def job_state(ctx: Context, job_id: Any) -> dict[str, Any]:
    """Old API: ``{job_id, job_state}``."""
    job = visible_job(ctx, job_id)
    return {"job_id": job.pk, "job_state": job.get_state_display()}
