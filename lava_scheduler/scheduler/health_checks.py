"""Which idle devices need a health check before anything else, and making those jobs."""

import logging
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth.models import User
from django.db.models import Max

from lava_common.yaml_loader import YAMLLoadError, dump_yaml, load_yaml
from lava_scheduler.device_config import DeviceConfigError
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobPriority
from lava_scheduler.lab import files
from lava_scheduler.lab.models import DeviceType
from lava_scheduler.lab.states import DeviceHealth, HealthDenominator
from lava_scheduler.scheduler import device_checks
from lava_scheduler.scheduler.any_of import any_of
from lava_scheduler.scheduler.lab_view import DeviceInfo

log = logging.getLogger("lava-scheduler")


def config_error(hostname: str) -> str | None:
    """Why the device's configuration cannot be rendered, or None.

    Remembered while the dictionary and the device-type templates are unchanged,
    across scheduler restarts too (``device_checks``).
    """
    key, mtime = device_checks.dictionary(hostname)
    if mtime is None:
        return f"no device dictionary ({key})"
    known = device_checks.recall(key, mtime)
    if known is not None:
        return known.error
    try:
        files.render_device(hostname)
        error = None
    except DeviceConfigError as exc:
        error = str(exc)
    device_checks.remember(key, mtime, error)
    return error


def health_check_file(hostname: str, of_type: dict[str, Path | None] | None = None) -> Path | None:
    """The health-check job of the device's type, if the lab has one (``of_type``: found during this pass)."""
    key, mtime = device_checks.dictionary(hostname)
    if mtime is None:
        return None
    known, device_type = device_checks.recall_extends(key, mtime)
    if not known:
        device_type = files.extended_type(hostname)
        device_checks.remember_extends(key, mtime, device_type)
    if not device_type:
        return None
    if of_type is None:
        return files.health_check_of_type(device_type)
    if device_type not in of_type:
        of_type[device_type] = files.health_check_of_type(device_type)
    return of_type[device_type]


def due_health_checks(devices: list[DeviceInfo], now: datetime) -> dict[str, Path]:
    """hostname -> health-check file, for the devices that must run one now."""
    types = {
        name: (frequency, denominator)
        for name, frequency, denominator in DeviceType.objects.filter(
            any_of("name", {d.device_type for d in devices}), disable_health_check=False
        ).values_list("name", "health_frequency", "health_denominator")
    }
    candidates = [d for d in devices if d.device_type in types]
    last = dict(
        TestJob.objects.filter(any_of("actual_device", [d.hostname for d in candidates]), health_check=True)
        .values("actual_device")
        .annotate(last=Max("submit_time"))
        .values_list("actual_device", "last")
    )
    due: dict[str, Path] = {}
    of_type: dict[str, Path | None] = {}
    for device in candidates:
        path = health_check_file(device.hostname, of_type)
        if path is None:
            continue
        frequency, denominator = types[device.device_type]
        previous = last.get(device.hostname)
        if device.health in (DeviceHealth.UNKNOWN, DeviceHealth.LOOPING) or previous is None:
            due[device.hostname] = path
        elif denominator == HealthDenominator.HOURS:
            if previous + timedelta(hours=frequency) < now:
                due[device.hostname] = path
        else:
            jobs_since = TestJob.objects.filter(
                actual_device=device.hostname, health_check=False, start_time__gte=previous
            ).count()
            if jobs_since >= frequency:
                due[device.hostname] = path
    return due


def health_user() -> User:
    user, _ = User.objects.get_or_create(username="lava-health")
    return user


def make_health_check(hostname: str, device_type: str, path: Path) -> TestJob:
    """A queued health-check job for the device; ValueError when the file is not a job."""
    text = path.read_text(encoding="utf-8")
    try:
        data = load_yaml(text)
    except YAMLLoadError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a job definition")
    return TestJob.objects.create(
        submitter=health_user(),
        description=str(data.get("job_name", f"{device_type} health check"))[:200],
        definition=dump_yaml(data),
        original_definition=text,
        requested_device_type_id=device_type,
        requested_device_id=hostname,
        health_check=True,
        priority=JobPriority.HIGH,
        is_public=True,
    )
