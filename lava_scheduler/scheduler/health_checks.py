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
from lava_scheduler.scheduler.lab_view import DeviceInfo

log = logging.getLogger("lava-scheduler")

# dictionary path -> (its mtime, health-check path or None, config error or None)
_device_cache: dict[str, tuple[float, Path | None, str | None]] = {}


def _device_facts(hostname: str) -> tuple[Path | None, str | None]:
    """The device's health-check file and whether its configuration renders (cached by mtime)."""
    path = files.dictionary_path(hostname)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None, f"no device dictionary ({path})"
    cached = _device_cache.get(str(path))
    if cached is not None and cached[0] == mtime:
        return cached[1], cached[2]
    error = None
    try:
        files.render_device(hostname)
    except DeviceConfigError as exc:
        error = str(exc)
    health_check = files.health_check_path(hostname)
    _device_cache[str(path)] = (mtime, health_check, error)
    return health_check, error


def config_error(hostname: str) -> str | None:
    return _device_facts(hostname)[1]


def health_check_file(hostname: str) -> Path | None:
    return _device_facts(hostname)[0]


def due_health_checks(devices: list[DeviceInfo], now: datetime) -> dict[str, Path]:
    """hostname -> health-check file, for the devices that must run one now."""
    types = {
        t.name: t
        for t in DeviceType.objects.filter(name__in={d.device_type for d in devices}, disable_health_check=False)
    }
    candidates = [d for d in devices if d.device_type in types]
    last = dict(
        TestJob.objects.filter(health_check=True, actual_device__in=[d.hostname for d in candidates])
        .values("actual_device")
        .annotate(last=Max("submit_time"))
        .values_list("actual_device", "last")
    )
    due: dict[str, Path] = {}
    for device in candidates:
        path = health_check_file(device.hostname)
        if path is None:
            continue
        device_type = types[device.device_type]
        previous = last.get(device.hostname)
        if device.health in (DeviceHealth.UNKNOWN, DeviceHealth.LOOPING) or previous is None:
            due[device.hostname] = path
        elif device_type.health_denominator == HealthDenominator.HOURS:
            if previous + timedelta(hours=device_type.health_frequency) < now:
                due[device.hostname] = path
        else:
            jobs_since = TestJob.objects.filter(
                actual_device=device.hostname, health_check=False, start_time__gte=previous
            ).count()
            if jobs_since >= device_type.health_frequency:
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
