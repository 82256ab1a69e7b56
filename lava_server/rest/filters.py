"""Query-string filters of the jobs list: ``?state=``, ``?health=``, device type, submitter, metadata."""

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.states import parse_choice

PLAIN = {
    "requested_device_type": "requested_device_type_id",
    "device_type": "requested_device_type_id",
    "actual_device": "actual_device_id",
    "submitter": "submitter__username",
    "description": "description",
    "target_group": "target_group",
}
ORDERING = {"id", "submit_time", "start_time", "end_time", "priority", "state", "health"}
METADATA_LOOKUPS = {"in", "startswith", "contains", "icontains", "exact"}


def _choice(choices, name: str, value: str) -> int:
    try:
        return parse_choice(choices, value)
    except ValueError as exc:
        raise ValidationError({name: str(exc)}) from None


def _metadata(jobs: QuerySet, param: str, value: str) -> QuerySet:
    rest = param[len("metadata__"):]
    if rest == "has_key":
        return jobs.filter(metadata__has_key=value)
    if rest in ("has_keys", "has_any_keys"):
        return jobs.filter(**{f"metadata__{rest}": [k for k in value.split(",") if k]})
    key, _, lookup = rest.rpartition("__")
    if lookup not in METADATA_LOOKUPS:
        key, lookup = rest, "exact"
    if not key:
        raise ValidationError({param: "expected metadata__<key>[__in|__startswith|__contains]"})
    if lookup == "in":
        return jobs.filter(**{f"metadata__{key}__in": value.split(",")})
    return jobs.filter(**{f"metadata__{key}__{lookup}": value})


def filter_jobs(jobs: QuerySet, params) -> QuerySet:
    for param, value in params.items():
        if param in ("limit", "offset", "format"):
            continue
        if param == "state":
            jobs = jobs.filter(state=_choice(JobState, param, value))
        elif param == "health":
            jobs = jobs.filter(health=_choice(JobHealth, param, value))
        elif param == "health_check":
            jobs = jobs.filter(health_check=value.lower() in ("1", "true", "yes"))
        elif param in PLAIN:
            jobs = jobs.filter(**{PLAIN[param]: value})
        elif param.startswith("metadata__"):
            jobs = _metadata(jobs, param, value)
        elif param == "search":
            jobs = jobs.filter(Q(description__icontains=value) | Q(submitter__username__iexact=value))
        elif param == "ordering":
            if value.lstrip("-") not in ORDERING:
                raise ValidationError({param: f"one of {', '.join(sorted(ORDERING))}, '-' for descending"})
            jobs = jobs.order_by(value, "-id")
        else:
            raise ValidationError({param: "unknown filter"})
    return jobs
