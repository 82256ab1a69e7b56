"""``system.*``: version, identity and a few permission queries."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

import lava_common
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab.models import Device, DeviceType
from lava_scheduler.permissions.rules import (
    VIEW,
    hidden_devices,
    submit_refusal,
    visible_device_types,
    visible_devices,
)
from lava_server.xmlrpc.registry import Context, as_int, fault, method, require_admin

API_VERSION = 2


@method("system.version")
def version(ctx: Context) -> str:
    """The server version, in the reference's calendar form (YYYY.MM)."""
    return lava_common.__version__


@method("system.api_version")
def api_version(ctx: Context) -> int:
    """The version of this XML-RPC API (the reference's is 2)."""
    return API_VERSION


@method("system.whoami")
def whoami(ctx: Context) -> str | None:
    """The caller's username, or nil for an anonymous caller."""
    return ctx.user.username if ctx.user.is_authenticated else None


@method("system.master_config")
def master_config(ctx: Context) -> dict[str, Any]:
    """Where workers connect and how often they are expected to ping."""
    return {"MASTER_URL": settings.MASTER_BIND, "EVENT_NOTIFICATION": False, "LOG_SIZE_LIMIT": None}


@method("system.get_master_certificate")
def get_master_certificate(ctx: Context) -> str:
    """The master's public CURVE key (Z85), empty when the master runs in plain text."""
    from pathlib import Path

    path = Path(settings.CONFIG_DIR) / "certificates.d" / "master.key"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _user_named(ctx: Context, username: str | None):
    if username is None:
        return ctx.user
    require_admin(ctx)
    user = User.objects.filter(username=username).first()
    if user is None:
        raise fault(404, f"Unknown user '{username}'")
    return user


@method("system.user_can_view_jobs")
def user_can_view_jobs(ctx: Context, job_list: list[Any], username: str | None = None) -> dict[str, bool]:
    """For each job id, whether the user (the caller by default) may see it."""
    user = _user_named(ctx, username)
    ids = {str(job_id): as_int(job_id, "job id") for job_id in job_list}
    visible = set(visible_jobs(user, TestJob.objects.filter(pk__in=ids.values())).values_list("pk", flat=True))
    return {key: value in visible for key, value in ids.items()}


@method("system.user_can_view_devices")
def user_can_view_devices(ctx: Context, device_list: list[str], username: str | None = None) -> dict[str, Any]:
    """For each hostname, whether the user may see the device (group permissions)."""
    user = _user_named(ctx, username)
    known = set(visible_devices(ctx.user, Device.objects.filter(hostname__in=device_list))
                .values_list("hostname", flat=True))
    missing = sorted(set(device_list) - known)
    if missing:
        raise fault(404, f"Unknown device(s): {', '.join(missing)}")
    hidden = hidden_devices(user, VIEW) or set()
    return {hostname: hostname not in hidden for hostname in device_list}


@method("system.user_can_submit_to_types")
def user_can_submit_to_types(ctx: Context, type_list: list[str], username: str | None = None) -> dict[str, bool]:
    """For each device type, whether the user may submit to it (a non-retired device accepts their jobs)."""
    user = _user_named(ctx, username)
    known = set(visible_device_types(ctx.user, DeviceType.objects.filter(name__in=type_list))
                .values_list("name", flat=True))
    missing = sorted(set(type_list) - known)
    if missing:
        raise fault(404, f"Unknown device type(s): {', '.join(missing)}")
    return {name: submit_refusal(user, name, None, None) is None for name in type_list}
