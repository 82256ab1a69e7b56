"""What a notification says: the callback payload, URL placeholders, mail and IRC text.

The payload has the reference's fields. The definition in it is masked
(``mask_definition``): the callback's URL is the submitter's choice and a
health check's secrets are the lab's, so no secret leaves the server in a
payload; the callback's own token travels in its header.
"""

import re
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from lava_common.yaml_loader import dump_yaml
from lava_scheduler.jobs.masking import mask_definition
from lava_scheduler.jobs.states import JobState
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.export import case_rows, suite_rows

# the reference's pre-2018 single "status" (still what {STATUS} and "status" carry)
_LEGACY_STATUS = {"Submitted": 0, "Running": 1, "Complete": 2, "Incomplete": 3, "Canceled": 4, "Canceling": 5}

PLACEHOLDER = re.compile(r"\{([A-Z_]+)\}")


class PlaceholderError(ValueError):
    pass


def legacy_status(job) -> str:
    if job.state == JobState.FINISHED:
        return job.get_health_display()
    if job.state == JobState.CANCELING:
        return "Canceling"
    if job.state == JobState.RUNNING:
        return "Running"
    return "Submitted"


def job_url(job) -> str:
    return settings.BASE_URL + reverse("web-job", args=[job.display_id])


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def job_data(job, dataset: str = "minimal") -> dict[str, Any]:
    status = legacy_status(job)
    data: dict[str, Any] = {
        "id": job.display_id,
        "status": _LEGACY_STATUS[status],
        "status_string": status.lower(),
        "state": job.state,
        "state_string": job.get_state_display(),
        "health": job.health,
        "health_string": job.get_health_display(),
        "submit_time": _iso(job.submit_time),
        "start_time": _iso(job.start_time),
        "end_time": _iso(job.end_time),
        "submitter": job.submitter.username,
        "failure_comment": job.failure_comment or None,
        "priority": job.priority,
        "description": job.description,
        "actual_device_id": job.actual_device_id,
        "definition": mask_definition(job.original_definition or job.definition),
        "metadata": job.metadata,
        "health_check": job.health_check,
        "url": job_url(job),
    }
    if dataset in ("logs", "all"):
        data["log"] = "\n".join(LogStore(job_output_dir(job)).read()) + "\n"
    if dataset in ("results", "all"):
        data["results"] = {suite["name"]: dump_yaml(case_rows(job, suite["name"])) for suite in suite_rows(job)}
    return data


def fill_url(url: str, job) -> str:
    """``url`` with each ``{FIELD}`` replaced by the job's value (URL-quoted); raises ``PlaceholderError``."""
    fields = {key.upper(): value for key, value in job_data(job).items() if not isinstance(value, dict)}

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in fields:
            raise PlaceholderError(
                f"unknown placeholder {{{name}}} in the callback URL (known: {', '.join(sorted(fields))})"
            )
        value = fields[name]
        return quote("" if value is None else str(value), safe="")

    return PLACEHOLDER.sub(replace, url)


def subject(job) -> str:
    return f"[{settings.INSTANCE_NAME}] job {job.display_id} {legacy_status(job).lower()}: {job.description}"[:200]


def mail_body(job, verbosity: str) -> str:
    lines = [
        f"Job {job.display_id}: {job.description}",
        f"State: {job.get_state_display()}, health: {job.get_health_display()}",
        f"URL: {job_url(job)}",
    ]
    if verbosity == "status-only":
        return "\n".join(lines) + "\n"
    lines += [
        f"Submitter: {job.submitter.username}",
        f"Device: {job.actual_device_id or '-'}",
        f"Submitted: {_iso(job.submit_time)}",
        f"Started: {_iso(job.start_time) or '-'}",
        f"Ended: {_iso(job.end_time) or '-'}",
    ]
    if job.error_type or job.error_msg:
        lines.append(f"Error: {job.error_type} {job.error_msg}".rstrip())
    if verbosity == "verbose":
        counts: dict[str, int] = {}
        for suite in suite_rows(job):
            for case in case_rows(job, suite["name"]):
                counts[case["result"]] = counts.get(case["result"], 0) + 1
        if counts:
            lines.append("Results: " + ", ".join(f"{count} {result}" for result, count in sorted(counts.items())))
        if job.failure_comment:
            lines += ["", job.failure_comment]
    return "\n".join(lines) + "\n"


def irc_message(job) -> str:
    outcome = job.get_health_display() if job.state == JobState.FINISHED else job.get_state_display()
    return f"job {job.display_id} ({job.description}) {outcome}: {job_url(job)}"
