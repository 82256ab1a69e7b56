"""``scheduler.devices.*``: the lab's boards, their dictionaries and tags."""

from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_scheduler.device_config import DeviceConfigError, device_type_of_dictionary
from lava_scheduler.events import wake_scheduler
from lava_scheduler.jobs.models import UNFINISHED, TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab import files
from lava_scheduler.lab.config_access import can_read_device_config
from lava_scheduler.lab.models import Device, Tag
from lava_scheduler.lab.states import DeviceHealth, DeviceState, TransitionError
from lava_scheduler.permissions.rules import CHANGE as CHANGE_RIGHT
from lava_scheduler.permissions.rules import device_allows, visible_devices
from lava_server.xmlrpc import lookup
from lava_server.xmlrpc.registry import (
    Context,
    as_bool,
    as_text,
    fault,
    method,
    require_admin,
    require_right,
    require_user,
)
from lava_server.xmlrpc.scheduler_perms import device_permissions

CHANGE = "lab.change_device"


def current_jobs(ctx: Context, hostnames: list[str]) -> dict[str, int]:
    """The unfinished job of each device, for the jobs the caller may see (one query)."""
    jobs = visible_jobs(ctx.user, TestJob.objects.filter(UNFINISHED, actual_device__in=hostnames))
    return dict(jobs.values_list("actual_device_id", "pk"))


@method("scheduler.devices.list")
def list_devices(ctx: Context, show_all: Any = False, offline_info: Any = False) -> list[dict[str, Any]]:
    """Devices (Retired ones only with ``show_all``)."""
    devices = visible_devices(ctx.user)
    if not as_bool(show_all, "show_all"):
        devices = devices.exclude(health=DeviceHealth.RETIRED)
    rows = list(devices.order_by("hostname").values("hostname", "device_type_id", "health", "state"))
    running = current_jobs(ctx, [row["hostname"] for row in rows])
    return [
        {
            "hostname": row["hostname"],
            "type": row["device_type_id"],
            "health": DeviceHealth(row["health"]).label,
            "state": DeviceState(row["state"]).label,
            "current_job": running.get(row["hostname"]),
            "pipeline": True,
        }
        for row in rows
    ]


@method("scheduler.all_devices")
def all_devices(ctx: Context) -> list[list[Any]]:
    """Old API: ``[hostname, device type, health, current job or nil, pipeline]`` per device."""
    return [
        [d["hostname"], d["type"], d["health"].lower(), d["current_job"], True] for d in list_devices(ctx)
    ]


@method("scheduler.devices.show")
def show(ctx: Context, hostname: str) -> dict[str, Any]:
    """A device's details (JSON-safe: no dateTime)."""
    device = lookup.device(hostname, ctx)
    return {
        "hostname": device.hostname,
        "device_type": device.device_type_id,
        "health": device.get_health_display(),
        "state": device.get_state_display(),
        "health_job": files.health_check_of_type(device.device_type_id) is not None,
        "description": device.description,
        "pipeline": True,
        "has_device_dict": files.dictionary_path(device.hostname).exists(),
        "worker": device.worker_host_id,
        "current_job": current_jobs(ctx, [device.hostname]).get(device.hostname),
        "tags": list(device.tags.values_list("name", flat=True)),
        "permissions": device_permissions(device),
    }


@method("scheduler.devices.get_dictionary")
def get_dictionary(ctx: Context, hostname: str, render: Any = False, context: Any = None) -> str:
    """The device dictionary (Jinja2), or with ``render`` the configuration a job would get (YAML).

    Both hold power commands and credentials: the right to change devices is needed.
    """
    require_right(ctx, can_read_device_config, "device dictionaries (needs the right to change devices)")
    device = lookup.device(hostname, ctx)
    text = files.read_dictionary(device.hostname)
    if text is None:
        raise fault(404, f"Device '{hostname}' has no device dictionary")
    if not as_bool(render, "render"):
        return text
    job_context: dict[str, Any] = {}
    if context:
        try:
            job_context = load_yaml(as_text(context, "context")) or {}
        except YAMLLoadError as exc:
            raise fault(400, f"context: {exc}") from None
        if not isinstance(job_context, dict):
            raise fault(400, "context: expected a YAML mapping")
    try:
        return files.render_device_text(device.hostname, job_context=job_context, text=text)
    except DeviceConfigError as exc:
        raise fault(400, f"Device '{hostname}': {exc}") from None


@method("scheduler.devices.set_dictionary")
def set_dictionary(ctx: Context, hostname: str, dictionary: Any) -> bool:
    """Store the device dictionary; an empty text deletes it."""
    require_admin(ctx, CHANGE)
    device = lookup.device(hostname, ctx)
    text = as_text(dictionary, "dictionary")
    path = files.dictionary_path(device.hostname)
    if not text:
        path.unlink(missing_ok=True)
        return True
    try:
        extends = device_type_of_dictionary(text, source=f"{device.hostname}.jinja2")
    except DeviceConfigError as exc:
        raise fault(400, str(exc)) from None
    if extends != device.device_type_id:
        raise fault(400, f"{device.hostname}.jinja2 extends '{extends}', but the device is a {device.device_type_id}")
    files.write_dictionary(device.hostname, text)
    return True


def _owner(user_name: Any, group_name: Any) -> tuple[User | None, Group | None]:
    user = group = None
    if user_name:
        user = User.objects.filter(username=str(user_name)).first()
        if user is None:
            raise fault(404, f"User '{user_name}' was not found.")
    if group_name:
        group = Group.objects.filter(name=str(group_name)).first()
        if group is None:
            raise fault(404, f"Group '{group_name}' was not found.")
    return user, group


@method("scheduler.devices.add")
def add(
    ctx: Context,
    hostname: str,
    type_name: str,
    worker_hostname: str,
    user_name: Any = None,
    group_name: Any = None,
    public: Any = True,
    health: Any = None,
    description: Any = None,
) -> None:
    """Add a device (Maintenance unless ``health`` says otherwise)."""
    user = require_admin(ctx, "lab.add_device")
    device_type = lookup.device_type(type_name, ctx)
    worker = lookup.worker(worker_hostname, ctx)
    owner, group = _owner(user_name, group_name)
    if Device.objects.filter(hostname=str(hostname)).exists():
        raise fault(400, f"Device '{hostname}' already exists")
    with transaction.atomic():
        device = Device(
            hostname=str(hostname), device_type=device_type, worker_host=worker, description=description or "",
            physical_owner=owner, physical_group=group,
        )
        device.full_clean()
        device.save()
        if health:
            device.go_health(lookup.parse_label(DeviceHealth, health, "health"), "added", user=user, manual=True)
            device.save()
        wake_scheduler("device")


@method("scheduler.devices.update")
def update(
    ctx: Context,
    hostname: str,
    worker_hostname: Any = None,
    user_name: Any = None,
    group_name: Any = None,
    public: Any = True,
    health: Any = None,
    description: Any = None,
    device_type: Any = None,
    reason: Any = None,
) -> None:
    """Change a device's worker, owner, health (with a reason), description or type; nil leaves a field.

    Health and description are for whoever may change the device (group permissions too); the rest
    needs the global permission.
    """
    if any(value is not None for value in (worker_hostname, user_name, group_name, device_type)):
        user = require_admin(ctx, CHANGE)
    else:
        user = require_user(ctx)
        lookup.device(hostname, ctx)  # 404 before 403 for a device the caller may not even see
        if not device_allows(user, str(hostname), CHANGE_RIGHT):
            raise fault(403, f"Permission denied: '{user.username}' may not change device '{hostname}'")
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(hostname=str(hostname)).first()
        if device is None:
            raise fault(404, f"Device '{hostname}' was not found.")
        if worker_hostname is not None:
            device.worker_host = lookup.worker(worker_hostname, ctx)
        owner, group = _owner(user_name, group_name)
        if owner is not None:
            device.physical_owner = owner
        if group is not None:
            device.physical_group = group
        if description is not None:
            device.description = str(description)
        if device_type is not None:
            device.device_type = lookup.device_type(device_type, ctx)
        if health is not None:
            new = lookup.parse_label(DeviceHealth, health, "health")
            try:
                device.go_health(new, str(reason or f"set by {user.username} (XML-RPC)"), user=user, manual=True)
            except TransitionError as exc:
                raise fault(400, str(exc)) from None
        device.save()
        wake_scheduler("device")


@method("scheduler.devices.delete")
def delete(ctx: Context, hostname: str) -> None:
    """Remove a device from the database (its dictionary file stays)."""
    require_admin(ctx, "lab.delete_device")
    lookup.device(hostname, ctx).delete()


@method("scheduler.devices.tags.add")
def tags_add(ctx: Context, hostname: str, name: str) -> None:
    """Attach tag ``name`` to the device (the tag is created when new)."""
    require_admin(ctx, CHANGE)
    tag, _ = Tag.objects.get_or_create(name=str(name))
    lookup.device(hostname, ctx).tags.add(tag)


@method("scheduler.devices.tags.list")
def tags_list(ctx: Context, hostname: str) -> list[str]:
    """The device's tags."""
    return list(lookup.device(hostname, ctx).tags.order_by("name").values_list("name", flat=True))


@method("scheduler.devices.tags.delete")
def tags_delete(ctx: Context, hostname: str, name: str) -> None:
    """Detach tag ``name`` from the device."""
    require_admin(ctx, CHANGE)
    device = lookup.device(hostname, ctx)
    tag = device.tags.filter(name=str(name)).first()
    if tag is None:
        raise fault(404, f"Device '{hostname}' has no tag '{name}'")
    device.tags.remove(tag)
