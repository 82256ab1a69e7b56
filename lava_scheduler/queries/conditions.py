"""The reference's ad-hoc query language: ``entity__field__operator__value`` conditions, comma separated.

``testjob__health__exact__Incomplete,testcase__name__icontains__boot`` on
entity ``testcase`` gives the boot cases of incomplete jobs. Fields are a
fixed list per entity; values in display words (``Incomplete``, ``pass``)
are turned into what the database stores. A bad condition raises
``QueryError`` saying which one and why.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.queries.models import ENTITIES
from lava_scheduler.results.models import TestCase, TestResult, TestSuite

OPERATORS = ("exact", "ne", "iexact", "icontains", "gt", "lt")
# database field for each queryable field of each entity
FIELDS = {
    "testjob": {
        "id": "pk", "description": "description", "health": "health", "state": "state",
        "submitter": "submitter__username", "requested_device_type": "requested_device_type_id",
        "actual_device": "actual_device_id", "priority": "priority", "submit_time": "submit_time",
        "start_time": "start_time", "end_time": "end_time", "health_check": "health_check",
    },
    "testsuite": {"id": "pk", "name": "name"},
    "testcase": {"id": "pk", "name": "name", "result": "result", "measurement": "measurement", "units": "units"},
}
CHOICES = {("testjob", "health"): JobHealth, ("testjob", "state"): JobState, ("testcase", "result"): TestResult}
# how to reach an entity's fields from the entity being queried
PATHS = {
    "testjob": {"testjob": "", "testsuite": "suites__", "testcase": "suites__test_cases__"},
    "testsuite": {"testjob": "job__", "testsuite": "", "testcase": "test_cases__"},
    "testcase": {"testjob": "suite__job__", "testsuite": "suite__", "testcase": ""},
}
MODELS = {"testjob": TestJob, "testsuite": TestSuite, "testcase": TestCase}


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    entity: str
    field: str
    operator: str
    value: str


def parse(conditions: str) -> list[Condition]:
    parsed = []
    for number, text in enumerate((c.strip() for c in conditions.split(",")), start=1):
        if not text:
            continue
        parts = text.split("__", 3)
        if len(parts) != 4:
            raise QueryError(f"condition {number} '{text}': expected entity__field__operator__value")
        entity, field, operator, value = parts
        if entity not in ENTITIES:
            raise QueryError(f"condition {number} '{text}': unknown entity '{entity}' (one of {', '.join(ENTITIES)})")
        if field not in FIELDS[entity]:
            known = ", ".join(FIELDS[entity])
            raise QueryError(f"condition {number} '{text}': unknown field '{field}' of {entity} (one of {known})")
        if operator not in OPERATORS:
            raise QueryError(f"condition {number} '{text}': unknown operator '{operator}' (one of {', '.join(OPERATORS)})")
        parsed.append(Condition(entity, field, operator, value))
    return parsed


def _value(condition: Condition) -> Any:
    choices = CHOICES.get((condition.entity, condition.field))
    if choices is None:
        return condition.value
    for number, label in choices.choices:
        if condition.value.lower() == label.lower():
            return number
    known = ", ".join(label for _, label in choices.choices)
    raise QueryError(f"{condition.entity}__{condition.field}: unknown value '{condition.value}' (one of {known})")


def filtered(entity: str, conditions: list[Condition], base: QuerySet | None = None) -> QuerySet:
    """The rows of ``entity`` (a queryset of its model, or ``base``) matching every condition."""
    if entity not in ENTITIES:
        raise QueryError(f"unknown entity '{entity}' (one of {', '.join(ENTITIES)})")
    rows = base if base is not None else MODELS[entity].objects.all()
    for condition in conditions:
        lookup = PATHS[entity][condition.entity] + FIELDS[condition.entity][condition.field]
        value = _value(condition)
        if condition.operator == "ne":
            rows = rows.filter(~Q(**{lookup: value}))
        else:
            rows = rows.filter(**{f"{lookup}__{condition.operator}": value})
    return rows.distinct()
