"""Finding the objects a call names, with the faults lavacli expects (404 for unknown or invisible)."""

from typing import Any

from django.db.models import Exists, OuterRef

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_server.xmlrpc.registry import Context, fault


def job_filter(job_id: Any) -> dict[str, Any]:
    """Query arguments for a job id as lavacli sends it: "12", 12, or a MultiNode "12.1"."""
    text = str(job_id).strip()
    if "." in text:
        first, _, index = text.partition(".")
        if first.isdigit() and index.isdigit():
            return {"sub_id": text}
    elif text.isdigit():
        return {"pk": int(text)}
    raise fault(400, f"Invalid job id '{job_id}': expected a number such as 42 (or 42.1 for MultiNode)")


def _plainly_visible(job: TestJob, user) -> bool:
    """Cases the visibility rule grants without a query: superusers, the submitter, public jobs without groups."""
    if user.is_authenticated and (user.is_superuser or job.submitter_id == user.pk):
        return True
    return job.is_public and not job.restricted


def visible_job(ctx: Context, job_id: Any, related: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> TestJob:
    """The job if the caller may see it; Fault 404 otherwise (a hidden job looks like a missing one).

    One query for the common cases; anything else is decided by the shared rule
    (``visible_jobs``), which stays the single authority.
    """
    groups = TestJob.viewing_groups.through.objects.filter(testjob_id=OuterRef("pk"))
    jobs = TestJob.objects.filter(**job_filter(job_id)).annotate(restricted=Exists(groups))
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


def device(hostname: Any) -> Device:
    found = Device.objects.select_related("device_type", "worker_host").filter(hostname=str(hostname)).first()
    if found is None:
        raise fault(404, f"Device '{hostname}' was not found.")
    return found


def device_type(name: Any) -> DeviceType:
    found = DeviceType.objects.filter(name=str(name)).first()
    if found is None:
        raise fault(404, f"Device-type '{name}' was not found.")
    return found


def worker(hostname: Any) -> Worker:
    found = Worker.objects.filter(hostname=str(hostname)).first()
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
