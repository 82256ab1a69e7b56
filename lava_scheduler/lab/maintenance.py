"""Putting the lab, a worker or a device type into maintenance, and taking it out.

Into maintenance: each usable device (not Maintenance, Retired) goes
Maintenance with the reason, so the scheduler gives it nothing new; a job
already running finishes unless ``cancel_running`` asks to cancel it. Out
of maintenance: each device in Maintenance goes Unknown, so a health check
runs before any job (as ``put_into_online_mode``). A worker in scope also
changes its own health.
"""

from dataclasses import dataclass, field

from django.db import transaction

from lava_scheduler.events import wake_master, wake_scheduler
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, Worker
from lava_scheduler.lab.states import DeviceHealth, WorkerHealth


@dataclass
class MaintenanceOutcome:
    devices: list[str] = field(default_factory=list)
    canceled_jobs: list[int] = field(default_factory=list)


def _devices(worker: str | None, device_type: str | None):
    devices = Device.objects.exclude(health=DeviceHealth.RETIRED)
    if worker:
        devices = devices.filter(worker_host=worker)
    if device_type:
        devices = devices.filter(device_type=device_type)
    return devices


@transaction.atomic
def set_maintenance(
    on: bool, reason: str, user=None, worker: str | None = None, device_type: str | None = None,
    cancel_running: bool = False, dry_run: bool = False,
) -> MaintenanceOutcome:
    outcome = MaintenanceOutcome()
    devices = _devices(worker, device_type).select_for_update().order_by("hostname")
    if on:
        devices = devices.exclude(health=DeviceHealth.MAINTENANCE)
    else:
        devices = devices.filter(health=DeviceHealth.MAINTENANCE)
    for device in devices:
        outcome.devices.append(device.hostname)
        if not dry_run:
            device.go_health(DeviceHealth.MAINTENANCE if on else DeviceHealth.UNKNOWN, reason, user, manual=True)
            device.save()
    if on and cancel_running:
        running = TestJob.objects.select_for_update().filter(
            state__in=(JobState.SCHEDULING, JobState.SCHEDULED, JobState.RUNNING),
            actual_device__in=_devices(worker, device_type),
        )
        for job in running.order_by("pk"):
            outcome.canceled_jobs.append(job.pk)
            if not dry_run:
                job.cancel(f"canceled for maintenance: {reason}")
    if worker and not dry_run:
        host = Worker.objects.select_for_update().get(pk=worker)
        host.go_health(WorkerHealth.MAINTENANCE if on else WorkerHealth.ACTIVE, user, reason)
        host.save()
    if not dry_run:
        wake_scheduler("maintenance")
        if outcome.canceled_jobs:
            wake_master("cancel")
    return outcome
