"""The lab overview: devices by health and state, queues, running jobs, workers."""

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab.models import Worker
from lava_scheduler.lab.states import DeviceHealth, DeviceState, WorkerState
from lava_scheduler.permissions.rules import visible_device_types, visible_devices, visible_workers
from lava_server.web.views.lab import queue_lengths, type_summaries

ACTIVE_STATES = (JobState.SCHEDULING, JobState.SCHEDULED, JobState.RUNNING, JobState.CANCELING)


def device_matrix(user) -> dict:
    """Device counts: one row per health, one column per state (of the devices ``user`` may see)."""
    counts = {(row["health"], row["state"]): row["count"]
              for row in visible_devices(user).values("health", "state").annotate(count=Count("hostname")).order_by()}
    rows = []
    for health, label in DeviceHealth.choices:
        cells = [counts.get((health, state), 0) for state, _ in DeviceState.choices]
        rows.append({"health": label, "cells": cells, "total": sum(cells)})
    return {
        "states": DeviceState.labels,
        "rows": rows,
        "column_totals": [sum(row["cells"][i] for row in rows) for i in range(len(DeviceState.choices))],
        "total": sum(counts.values()),
    }


@require_GET
def lab_overview(request: HttpRequest) -> HttpResponse:
    active = TestJob.objects.filter(state__in=ACTIVE_STATES)
    running = visible_jobs(request.user, active).select_related("submitter").order_by("-start_time", "-id")
    recent = (
        visible_jobs(request.user, TestJob.objects.filter(state=JobState.FINISHED, end_time__isnull=False))
        .select_related("submitter")
        .order_by("-end_time")
    )
    workers = list(visible_workers(request.user, Worker.objects.annotate(device_count=Count("devices")))
                   .order_by("hostname"))
    queues, summaries = queue_lengths(), type_summaries(request.user)
    types = [
        {"name": name, "queued": queues.get(name, 0), "devices": summaries.get(name, {})}
        for name in visible_device_types(request.user).filter(display=True).values_list("name", flat=True)
    ]
    context = {
        "matrix": device_matrix(request.user),
        "types": [t for t in types if t["devices"] or t["queued"]],
        "queued_total": sum(queues.values()),
        "running": running[:25],
        "active_total": active.count(),
        "recent": recent[:10],
        "workers": workers,
        "workers_online": sum(1 for w in workers if w.state == WorkerState.ONLINE),
    }
    return render(request, "web/overview.html", context)
