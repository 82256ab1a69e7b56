"""``scheduler.devices.perms_*`` and ``scheduler.device_types.perms_*``: group permission rows.

Stored here, enforced by the permission rules (issue 14). Answers are
``[{name, group}]`` as lavacli prints them (``* <group> <name>``).
"""

from typing import Any

from django.contrib.auth.models import Group

from lava_scheduler.lab.permission_names import DEVICE_PERMISSIONS, DEVICE_TYPE_PERMISSIONS
from lava_scheduler.permissions.models import GroupDevicePermission, GroupDeviceTypePermission
from lava_server.xmlrpc import lookup
from lava_server.xmlrpc.registry import Context, fault, method, require_admin


def _group(name: Any) -> Group:
    found = Group.objects.filter(name=str(name)).first()
    if found is None:
        raise fault(404, f"Group '{name}' was not found.")
    return found


def _checked(permission: Any, allowed: tuple[str, ...]) -> str:
    if str(permission) not in allowed:
        raise fault(400, f"Invalid permission '{permission}': expected one of {', '.join(allowed)}")
    return str(permission)


def _listed(rows) -> list[dict[str, str]]:
    return [{"name": row.permission, "group": row.group.name} for row in rows.select_related("group")]


def device_permissions(device) -> list[dict[str, str]]:
    return _listed(GroupDevicePermission.objects.filter(device=device))


def device_type_permissions(device_type) -> list[dict[str, str]]:
    return _listed(GroupDeviceTypePermission.objects.filter(device_type=device_type))


@method("scheduler.devices.perms_list")
def devices_perms_list(ctx: Context, hostname: str) -> list[dict[str, str]]:
    """Group permissions on the device (none: open to every user)."""
    return device_permissions(lookup.device(hostname, ctx))


@method("scheduler.devices.perms_add")
def devices_perms_add(ctx: Context, hostname: str, group: str, permission: str) -> None:
    """Give ``group`` ``permission`` (view_device, submit_to_device, change_device) on the device."""
    require_admin(ctx, "lab.change_device")
    device = lookup.device(hostname, ctx)
    GroupDevicePermission.objects.get_or_create(
        device=device, group=_group(group), permission=_checked(permission, DEVICE_PERMISSIONS)
    )


@method("scheduler.devices.perms_delete")
def devices_perms_delete(ctx: Context, hostname: str, group: str, permission: str) -> None:
    require_admin(ctx, "lab.change_device")
    device = lookup.device(hostname, ctx)
    deleted, _ = GroupDevicePermission.objects.filter(
        device=device, group=_group(group), permission=_checked(permission, DEVICE_PERMISSIONS)
    ).delete()
    if not deleted:
        raise fault(404, f"Group '{group}' has no '{permission}' on device '{hostname}'")


@method("scheduler.device_types.perms_list")
def device_types_perms_list(ctx: Context, name: str) -> list[dict[str, str]]:
    """Group permissions on the device type (none: open to every user)."""
    return device_type_permissions(lookup.device_type(name, ctx))


@method("scheduler.device_types.perms_add")
def device_types_perms_add(ctx: Context, name: str, group: str, permission: str) -> None:
    """Give ``group`` ``permission`` (view_devicetype, submit_to_devicetype, change_devicetype) on the type."""
    require_admin(ctx, "lab.change_devicetype")
    device_type = lookup.device_type(name, ctx)
    GroupDeviceTypePermission.objects.get_or_create(
        device_type=device_type, group=_group(group), permission=_checked(permission, DEVICE_TYPE_PERMISSIONS)
    )


@method("scheduler.device_types.perms_delete")
def device_types_perms_delete(ctx: Context, name: str, group: str, permission: str) -> None:
    require_admin(ctx, "lab.change_devicetype")
    device_type = lookup.device_type(name, ctx)
    deleted, _ = GroupDeviceTypePermission.objects.filter(
        device_type=device_type, group=_group(group), permission=_checked(permission, DEVICE_TYPE_PERMISSIONS)
    ).delete()
    if not deleted:
        raise fault(404, f"Group '{group}' has no '{permission}' on device type '{name}'")
