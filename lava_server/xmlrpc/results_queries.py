"""``results.make_custom_query``, ``run_query``, ``refresh_query``, ``refresh_all_queries``.

Results only come from jobs the caller may see. Every query runs live, so
the refresh methods only record the time (the reference refreshes cached
materialized views there).
"""

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.queries.conditions import QueryError, filtered, parse
from lava_scheduler.queries.models import ENTITIES, Query
from lava_scheduler.results.models import TestCase, TestSuite
from lava_server.xmlrpc.registry import (
    Context,
    as_int,
    as_text,
    fault,
    method,
    naive_utc,
    require_admin,
    require_user,
)

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


def _visible(ctx: Context, entity: str):
    jobs = visible_jobs(ctx.user, TestJob.objects.all())
    if entity == "testjob":
        return jobs
    if entity == "testsuite":
        return TestSuite.objects.filter(job__in=jobs)
    return TestCase.objects.filter(suite__job__in=jobs)


def _row(entity: str, item: Any) -> dict[str, Any]:
    if entity == "testjob":
        return {
            "id": item.pk, "description": item.description, "submitter": item.submitter.username,
            "device_type": item.requested_device_type_id, "device": item.actual_device_id,
            "state": item.get_state_display(), "health": item.get_health_display(),
            "submit_time": naive_utc(item.submit_time), "end_time": naive_utc(item.end_time),
        }
    if entity == "testsuite":
        return {"id": item.pk, "name": item.name, "job": item.job_id}
    return {
        "id": item.pk, "name": item.name, "suite": item.suite.name, "job": item.suite.job_id,
        "result": item.get_result_display(),
        "measurement": None if item.measurement is None else str(item.measurement), "units": item.units,
    }


def _run(ctx: Context, entity: str, conditions: str, limit: int) -> list[dict[str, Any]]:
    if entity not in ENTITIES:
        raise fault(400, f"entity: expected one of {', '.join(ENTITIES)}, got '{entity}'")
    try:
        rows = filtered(entity, parse(conditions), _visible(ctx, entity))
    except QueryError as exc:
        raise fault(400, str(exc)) from None
    related = {"testjob": ("submitter",), "testsuite": (), "testcase": ("suite",)}[entity]
    return [_row(entity, item) for item in rows.select_related(*related).order_by("-pk")[:limit]]


def _limit(value: Any) -> int:
    limit = as_int(value, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise fault(400, f"limit: expected 1 to {MAX_LIMIT}, got {limit}")
    return limit


@method("results.make_custom_query")
def make_custom_query(ctx: Context, entity: str, conditions: str, limit: Any = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """Rows of ``entity`` (testjob, testsuite, testcase) matching ``entity__field__operator__value,...``, newest first."""
    return _run(ctx, as_text(entity, "entity"), as_text(conditions, "conditions"), _limit(limit))


def _query(ctx: Context, name: Any, username: Any) -> Query:
    """The saved query ``name`` of ``username`` (the caller by default), if the caller may run it."""
    if username is None:
        owner = require_user(ctx)
    else:
        owner = User.objects.filter(username=str(username)).first()
        if owner is None:
            raise fault(404, f"User '{username}' was not found.")
    query = Query.objects.filter(owner=owner, name=str(name)).first()
    mine = ctx.user.is_authenticated and (ctx.user.pk == owner.pk or ctx.user.is_superuser)
    if query is None or not (query.is_published or mine):
        raise fault(404, f"Query '~{owner.username}/{name}' was not found.")
    return query


@method("results.run_query")
def run_query(ctx: Context, query_name: str, limit: Any = DEFAULT_LIMIT, username: Any = None) -> list[dict[str, Any]]:
    """Run a saved query (the caller's, or ``username``'s if published)."""
    query = _query(ctx, query_name, username)
    return _run(ctx, query.entity, query.conditions, min(_limit(limit), query.limit))


@method("results.refresh_query")
def refresh_query(ctx: Context, query_name: str, username: Any = None) -> None:
    """Record a refresh of a saved query (queries here are always live)."""
    query = _query(ctx, query_name, username)
    if not (ctx.user.is_superuser or ctx.user.pk == query.owner_id):
        raise fault(403, f"Permission denied: only the owner may refresh '~{query.owner.username}/{query.name}'")
    Query.objects.filter(pk=query.pk).update(last_updated=timezone.now())


@method("results.refresh_all_queries")
def refresh_all_queries(ctx: Context) -> None:
    """Record a refresh of every saved query; admins only."""
    require_admin(ctx)
    Query.objects.update(last_updated=timezone.now())
