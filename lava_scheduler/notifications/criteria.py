"""When a ``notify:`` block fires: its ``criteria`` against a job's new state.

``status`` picks the moment (``running``; ``finished``; ``complete``,
``incomplete``, ``canceled`` for that ending; ``all`` for both moments).
``type: regression`` fires for an Incomplete job whose previous run was
Complete, ``progression`` for the reverse; the previous run is the last
finished job with the same description, submitter and device type (the
reference compares the job's health with itself, which never differs).
"""

from typing import Any

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState

RUNNING = "running"
FINISHED = "finished"

_ENDINGS = {"complete": JobHealth.COMPLETE, "incomplete": JobHealth.INCOMPLETE, "canceled": JobHealth.CANCELED}


def event_of(job) -> str | None:
    """``running`` or ``finished`` when the job is in one of the states notifications follow."""
    if job.state == JobState.RUNNING:
        return RUNNING
    if job.state == JobState.FINISHED:
        return FINISHED
    return None


def previous_health(job) -> int | None:
    """Health of the previous finished run of the same job (see the module's docstring)."""
    return (
        TestJob.objects.filter(
            state=JobState.FINISHED,
            description=job.description,
            submitter_id=job.submitter_id,
            requested_device_type_id=job.requested_device_type_id,
            end_time__lt=job.end_time,
        )
        .exclude(pk=job.pk)
        .order_by("-end_time", "-pk")
        .values_list("health", flat=True)
        .first()
    )


def fires(criteria: dict[str, Any], job, event: str) -> bool:
    status = criteria.get("status")
    if status == "all":
        return event in (RUNNING, FINISHED)
    if status == RUNNING:
        return event == RUNNING
    if event != FINISHED:
        return False
    if status == FINISHED:
        return True
    if _ENDINGS.get(status) != job.health:
        return False
    kind = criteria.get("type")
    if kind is None:
        return True
    before = previous_health(job)
    if kind == "regression":
        return before == JobHealth.COMPLETE and job.health == JobHealth.INCOMPLETE
    return before == JobHealth.INCOMPLETE and job.health == JobHealth.COMPLETE
