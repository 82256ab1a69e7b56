"""The filters of the jobs list, read from the query string."""

import re
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import QueryDict

from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.states import parse_choice

# a text the trigram index can look up: one word of three letters or digits at least (shorter, the
# newest jobs are read in order until enough match, as without the index)
TRIGRAM = re.compile(r"[^\W_]{3}")
FIELDS = ("state", "health", "device_type", "device", "submitter", "q", "kind")
KINDS = {"": "all jobs", "normal": "normal jobs", "health": "health checks"}


@dataclass
class JobFilters:
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(self.values.values())

    @property
    def searches_text(self) -> bool:
        """A text the trigram index looks up: PostgreSQL then reads every match to order them."""
        return bool(TRIGRAM.search(self.values["q"]))


def read_filters(query: QueryDict) -> JobFilters:
    return JobFilters({name: query.get(name, "").strip()[:200] for name in FIELDS})


def apply_filters(jobs: QuerySet, filters: JobFilters) -> QuerySet:
    """Narrow ``jobs``; a bad value is reported in ``filters.errors`` and ignored."""
    values = filters.values
    for name, choices in (("state", JobState), ("health", JobHealth)):
        if values[name]:
            try:
                jobs = jobs.filter(**{name: parse_choice(choices, values[name])})
            except ValueError as exc:
                filters.errors.append(f"{name}: {exc}")
    if values["device_type"]:
        jobs = jobs.filter(requested_device_type_id=values["device_type"])
    if values["device"]:
        jobs = jobs.filter(actual_device_id=values["device"])
    if values["submitter"]:
        user_id = User.objects.filter(username=values["submitter"]).values_list("pk", flat=True).first()
        if user_id is None:
            filters.errors.append(f"submitter: no user '{values['submitter']}'")
        else:
            jobs = jobs.filter(submitter_id=user_id)
    if values["q"]:
        contains = Q(description__icontains=values["q"])
        if filters.searches_text:
            # finished jobs through their trigram index (PostgreSQL: migration jobs 0008), the few
            # others through job_state_health: the index holds finished jobs only, so that the
            # scheduler's and the master's updates of the jobs under way never pay for it
            contains = Q(state=JobState.FINISHED) & contains | Q(state__lt=JobState.FINISHED) & contains
        jobs = jobs.filter(contains)
    if values["kind"] == "normal":
        jobs = jobs.filter(health_check=False)
    elif values["kind"] == "health":
        jobs = jobs.filter(health_check=True)
    elif values["kind"]:
        filters.errors.append(f"kind: unknown kind {values['kind']!r}; known: normal, health")
    return jobs
