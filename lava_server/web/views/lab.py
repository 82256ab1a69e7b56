"""Devices, device types and workers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from lava_scheduler.device_config import DeviceConfigError
from lava_scheduler.events import wake_scheduler
from lava_scheduler.jobs.masking import readable_health_check
from lava_scheduler.jobs.models import UNFINISHED, TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.visibility import can_view, visible_jobs
from lava_scheduler.lab.config_access import can_read_device_config
from lava_scheduler.lab.files import health_check_of_type, read_dictionary, render_device_text
from lava_scheduler.lab.history import history_for
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth, DeviceState, TransitionError, WorkerState, parse_choice
from lava_scheduler.permissions.rules import (
    CHANGE,
    device_allows,
    restrictions,
    visible_device_types,
    visible_devices,
    visible_workers,
)
from lava_server.web.paging import paginate

BUSY = (DeviceState.RESERVED, DeviceState.RUNNING)


def current_jobs(user, hostnames: list[str]) -> dict[str, dict]:
    """The unfinished job of each device: ``{"id", "visible"}``, the id shown only to who may see the job."""
    jobs = TestJob.objects.filter(UNFINISHED, actual_device__in=hostnames)
    visible = set(visible_jobs(user, jobs).values_list("pk", flat=True))
    found = {}
    for pk, sub_id, hostname in jobs.values_list("pk", "sub_id", "actual_device"):
        found[hostname] = {"id": sub_id or str(pk), "visible": pk in visible}
    return found


@require_GET
def device_list(request: HttpRequest) -> HttpResponse:
    devices = visible_devices(request.user, Device.objects.select_related("worker_host")).order_by("hostname")
    chosen = {name: request.GET.get(name, "") for name in ("device_type", "health", "state", "worker")}
    errors = []
    if chosen["device_type"]:
        devices = devices.filter(device_type_id=chosen["device_type"])
    if chosen["worker"]:
        devices = devices.filter(worker_host_id=chosen["worker"])
    for name, choices in (("health", DeviceHealth), ("state", DeviceState)):
        if chosen[name]:
            try:
                devices = devices.filter(**{name: parse_choice(choices, chosen[name])})
            except ValueError as exc:
                errors.append(f"{name}: {exc}")
    if not chosen["health"] and request.GET.get("retired") != "1":
        devices = devices.exclude(health=DeviceHealth.RETIRED)
    page = paginate(devices, request.GET.get("page"), per_page=100)
    tags: dict[str, list[str]] = {}
    through = Device.tags.through.objects.filter(device__in=[d.hostname for d in page.items])
    for hostname, name in through.values_list("device_id", "tag__name").order_by("tag__name"):
        tags.setdefault(hostname, []).append(name)
    context = {
        "page": page,
        "tags": tags,
        "chosen": chosen,
        "errors": errors,
        "jobs": current_jobs(request.user, [d.hostname for d in page.items]),
        "device_types": visible_device_types(request.user).values_list("name", flat=True),
        "workers": visible_workers(request.user).values_list("hostname", flat=True),
        "healths": DeviceHealth.labels,
        "states": DeviceState.labels,
    }
    return render(request, "web/device_list.html", context)


def _configuration(request: HttpRequest, hostname: str) -> dict:
    if not can_read_device_config(request.user):
        return {"hidden": True}
    try:
        return {"rendered": render_device_text(hostname), "dictionary": read_dictionary(hostname)}
    except DeviceConfigError as exc:
        return {"error": str(exc), "dictionary": read_dictionary(hostname)}


def _visible_job_id(user, job: TestJob | None) -> int | None:
    return job.pk if job is not None and can_view(job, user) else None


@require_GET
def device_page(request: HttpRequest, hostname: str) -> HttpResponse:
    device = get_object_or_404(
        visible_devices(
            request.user, Device.objects.select_related("device_type", "worker_host", "physical_owner", "physical_group")
        ),
        pk=hostname,
    )
    transitions = paginate(
        device.transitions.select_related("user").order_by("-created", "-id"), request.GET.get("page"), per_page=50
    )
    transitions.items = history_for(request.user, transitions.items)
    recent = visible_jobs(request.user, TestJob.objects.filter(actual_device=device)).order_by("-submit_time", "-id")
    context = {
        "device": device,
        "jobs": current_jobs(request.user, [device.hostname]),
        "transitions": transitions,
        "recent_jobs": recent[:20],
        "last_health_check": _visible_job_id(request.user, device.last_health_report_job),
        "tags": list(device.tags.values_list("name", flat=True)),
        "config": _configuration(request, hostname),
        "can_change": device_allows(request.user, device.hostname, CHANGE),
        "restrictions": restrictions(device.device_type_id, device.hostname),
        "healths": DeviceHealth.labels,
    }
    return render(request, "web/device.html", context)


@login_required
@require_POST
def device_set_health(request: HttpRequest, hostname: str) -> HttpResponse:
    if not device_allows(request.user, hostname, CHANGE):
        raise PermissionDenied("changing a device's health needs change rights on it (lab.change_device or a group's)")
    reason = request.POST.get("reason", "").strip()[:500] or "set in the web UI"
    try:
        health = parse_choice(DeviceHealth, request.POST.get("health", ""))
        with transaction.atomic():
            device = get_object_or_404(Device.objects.select_for_update(), pk=hostname)
            device.go_health(health, reason, user=request.user, manual=True)
            device.save()
            wake_scheduler("device health")
    except (ValueError, TransitionError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{hostname} is now {DeviceHealth(health).label}.")
    return redirect("web-device", hostname=hostname)


def type_summaries(user) -> dict[str, dict]:
    summaries: dict[str, dict] = {}
    for row in visible_devices(user).values("device_type", "health", "state").annotate(count=Count("hostname")):
        summary = summaries.setdefault(row["device_type"], {"total": 0, "idle": 0, "busy": 0, "unusable": 0})
        summary["total"] += row["count"]
        if row["health"] in (DeviceHealth.BAD, DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED):
            summary["unusable"] += row["count"]
        elif row["state"] in BUSY:
            summary["busy"] += row["count"]
        else:
            summary["idle"] += row["count"]
    return summaries


def queue_lengths() -> dict[str, int]:
    rows = (
        TestJob.objects.filter(state=JobState.SUBMITTED)
        .values("requested_device_type")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["requested_device_type"]: row["count"] for row in rows}


@require_GET
def device_type_list(request: HttpRequest) -> HttpResponse:
    summaries, queues = type_summaries(request.user), queue_lengths()
    types = [
        {"type": device_type, "devices": summaries.get(device_type.name, {}), "queued": queues.get(device_type.name, 0)}
        for device_type in visible_device_types(request.user, DeviceType.objects.prefetch_related("aliases"))
    ]
    return render(request, "web/device_type_list.html", {"types": types})


@require_GET
def device_type_page(request: HttpRequest, name: str) -> HttpResponse:
    device_type = get_object_or_404(visible_device_types(request.user), pk=name)
    health_check = health_check_of_type(name)
    queued = visible_jobs(
        request.user, TestJob.objects.filter(state=JobState.SUBMITTED, requested_device_type=device_type)
    ).select_related("submitter").order_by("-priority", "submit_time", "sub_id", "id")  # the scheduler's order
    devices = visible_devices(request.user, device_type.devices.select_related("worker_host")).order_by("hostname")
    context = {
        "device_type": device_type,
        "devices": devices,
        "jobs": current_jobs(request.user, [d.hostname for d in devices]),
        "aliases": list(device_type.aliases.values_list("name", flat=True)),
        "health_check": (
            readable_health_check(health_check.read_text(encoding="utf-8", errors="replace"), request.user)
            if health_check else None
        ),
        "queued": queued[:50],
        "restrictions": restrictions(name),
        "queue_length": queue_lengths().get(name, 0),
    }
    return render(request, "web/device_type.html", context)


@require_GET
def worker_list(request: HttpRequest) -> HttpResponse:
    workers = visible_workers(request.user, Worker.objects.annotate(device_count=Count("devices"))).order_by("hostname")
    return render(request, "web/worker_list.html", {"workers": workers, "online": WorkerState.ONLINE})


@require_GET
def worker_page(request: HttpRequest, hostname: str) -> HttpResponse:
    worker = get_object_or_404(visible_workers(request.user), pk=hostname)
    devices = visible_devices(request.user, worker.devices.select_related("device_type")).order_by("hostname")
    context = {
        "worker": worker,
        "devices": devices,
        "jobs": current_jobs(request.user, [d.hostname for d in devices]),
        "online": worker.state == WorkerState.ONLINE,
    }
    return render(request, "web/worker.html", context)
