"""``scheduler.device_types.*``: device types, their templates, health checks and aliases."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from lava_scheduler.device_config import DeviceConfigError, template_exists
from lava_scheduler.device_config.device_types import check_template
from lava_scheduler.jobs.masking import readable_health_check
from lava_scheduler.lab import files
from lava_scheduler.lab.models import Alias, Device, DeviceType
from lava_scheduler.lab.states import DeviceHealth, HealthDenominator
from lava_scheduler.permissions.rules import visible_device_types
from lava_server.xmlrpc import lookup
from lava_server.xmlrpc.registry import Context, as_bool, as_int, as_text, fault, method, require_admin
from lava_server.xmlrpc.scheduler_perms import device_type_permissions
from lava_server.xmlrpc.yaml_text import require_yaml_mapping

CHANGE = "lab.change_devicetype"


def _template_path(name: str) -> Path | None:
    for folder in settings.DEVICE_TYPES_PATHS:
        path = Path(folder) / f"{name}.jinja2"
        if path.is_file():
            return path
    return None


def _lab_template_path(name: str) -> Path:
    """Where the lab's own template of ``name`` lives (it overrides the shipped one)."""
    return Path(settings.DEVICE_TYPES_PATHS[0]) / f"{name}.jinja2"


@method("scheduler.device_types.list")
def list_types(ctx: Context, show_all: Any = False) -> list[dict[str, Any]]:
    """Device types with their number of non-retired devices (hidden types only with ``show_all``)."""
    types = visible_device_types(ctx.user)
    if not as_bool(show_all, "show_all"):
        types = types.filter(display=True)
    counted = types.annotate(count=Count("devices", filter=~Q(devices__health=DeviceHealth.RETIRED)))
    return [
        {
            "name": row["name"],
            "devices": row["count"],
            "installed": True,
            "template": template_exists(row["name"], settings.DEVICE_TYPES_PATHS),
        }
        for row in counted.order_by("name").values("name", "count")
    ]


@method("scheduler.all_device_types")
def all_device_types(ctx: Context) -> list[dict[str, Any]]:
    """Old API: name and device counts per health of each visible type."""
    result = []
    for name in visible_device_types(ctx.user).filter(display=True).values_list("name", flat=True):
        healths = list(Device.objects.filter(device_type=name).values_list("health", flat=True))
        result.append(
            {
                "name": name,
                "idle": sum(1 for h in healths if h in (DeviceHealth.GOOD, DeviceHealth.UNKNOWN)),
                "busy": 0,
                "offline": sum(1 for h in healths if h in (DeviceHealth.MAINTENANCE, DeviceHealth.BAD)),
            }
        )
    return result


@method("scheduler.device_types.show")
def show(ctx: Context, name: str) -> dict[str, Any]:
    """A device type's settings, aliases and devices."""
    device_type = lookup.device_type(name, ctx)
    return {
        "name": device_type.name,
        "description": device_type.description,
        "display": device_type.display,
        "health_disabled": device_type.disable_health_check,
        "health_denominator": device_type.get_health_denominator_display(),
        "health_frequency": device_type.health_frequency,
        "aliases": list(device_type.aliases.values_list("name", flat=True)),
        "devices": list(device_type.devices.values_list("hostname", flat=True)),
        "default_template": not _lab_template_path(device_type.name).is_file(),
        "permissions": device_type_permissions(device_type),
    }


@method("scheduler.device_types.devices")
def devices(ctx: Context, name: str, health: Any = None) -> list[dict[str, Any]]:
    """The devices of a type, optionally of one health."""
    device_type = lookup.device_type(name, ctx)
    rows = Device.objects.filter(device_type=device_type)
    if health:
        rows = rows.filter(health=lookup.parse_label(DeviceHealth, health, "health"))
    return [
        {"hostname": d.hostname, "state": d.get_state_display(), "health": d.get_health_display()}
        for d in rows.order_by("hostname")
    ]


def _denominator(value: Any) -> int:
    return lookup.parse_label(HealthDenominator, value, "health_denominator")


@method("scheduler.device_types.add")
def add(
    ctx: Context,
    name: str,
    description: Any = None,
    display: Any = True,
    owners_only: Any = False,
    health_frequency: Any = 24,
    health_denominator: Any = "hours",
) -> None:
    """Add a device type (its template is a file: see set_template)."""
    require_admin(ctx, "lab.add_devicetype")
    if DeviceType.objects.filter(name=str(name)).exists():
        raise fault(400, f"Device-type '{name}' already exists")
    device_type = DeviceType(
        name=str(name),
        description=description or "",
        display=as_bool(display, "display"),
        health_frequency=as_int(health_frequency, "health_frequency", 24),
        health_denominator=_denominator(health_denominator or "hours"),
    )
    device_type.full_clean()
    device_type.save()


@method("scheduler.device_types.update")
def update(
    ctx: Context,
    name: str,
    description: Any = None,
    display: Any = None,
    owners_only: Any = None,
    health_frequency: Any = None,
    health_denominator: Any = None,
    health_disabled: Any = None,
) -> None:
    """Change a device type's settings; nil leaves a setting unchanged."""
    require_admin(ctx, CHANGE)
    device_type = lookup.device_type(name, ctx)
    if description is not None:
        device_type.description = str(description)
    if display is not None:
        device_type.display = as_bool(display, "display")
    if health_frequency is not None:
        device_type.health_frequency = as_int(health_frequency, "health_frequency")
    if health_denominator is not None:
        device_type.health_denominator = _denominator(health_denominator)
    if health_disabled is not None:
        device_type.disable_health_check = as_bool(health_disabled, "health_disabled")
    device_type.save()


@method("scheduler.device_types.get_template")
def get_template(ctx: Context, name: str) -> str:
    """The device-type template (Jinja2): the lab's own, else the shipped one."""
    lookup.device_type(name, ctx)
    path = _template_path(str(name))
    if path is None:
        raise fault(404, f"Device-type '{name}' has no template")
    return path.read_text(encoding="utf-8")


@method("scheduler.device_types.set_template")
def set_template(ctx: Context, name: str, config: Any) -> bool:
    """Store the lab's template for the type; an empty text deletes it (the shipped one applies again)."""
    require_admin(ctx, CHANGE)
    device_type = lookup.device_type(name, ctx)
    text = as_text(config, "config")
    path = _lab_template_path(device_type.name)
    if not text:
        path.unlink(missing_ok=True)
    else:
        try:
            check_template(text, f"{device_type.name}.jinja2")
        except DeviceConfigError as exc:
            raise fault(400, str(exc)) from None
        files.write_atomically(path, text)
    return True


@method("scheduler.device_types.get_health_check")
def get_health_check(ctx: Context, name: str) -> str:
    """The type's health-check job definition (its secrets masked unless the caller may change device types)."""
    lookup.device_type(name, ctx)
    path = files.health_check_of_type(str(name))
    if path is None:
        raise fault(404, f"Device-type '{name}' has no health check")
    return readable_health_check(path.read_text(encoding="utf-8"), ctx.user)


@method("scheduler.device_types.set_health_check")
def set_health_check(ctx: Context, name: str, config: Any) -> bool:
    """Store the type's health-check job; an empty text deletes it."""
    require_admin(ctx, CHANGE)
    device_type = lookup.device_type(name, ctx)
    text = as_text(config, "config")
    if text:
        require_yaml_mapping(text, f"health check of {device_type.name}")
    existing = files.health_check_of_type(device_type.name)
    if existing is not None:
        existing.unlink()
    if text:
        files.write_atomically(Path(settings.HEALTH_CHECKS_PATH) / f"{device_type.name}.yaml", text)
    return True


@method("scheduler.device_types.aliases.add")
def aliases_add(ctx: Context, name: str, alias: str) -> None:
    """Give the type another name usable as ``device_type:``."""
    require_admin(ctx, "lab.add_alias")
    device_type = lookup.device_type(name, ctx)
    item = Alias(name=str(alias), device_type=device_type)
    item.full_clean()
    item.save()


@method("scheduler.device_types.aliases.list")
def aliases_list(ctx: Context, name: str) -> list[str]:
    """The type's aliases."""
    return list(lookup.device_type(name, ctx).aliases.values_list("name", flat=True))


@method("scheduler.device_types.aliases.delete")
def aliases_delete(ctx: Context, name: str, alias: str) -> None:
    """Remove one of the type's aliases."""
    require_admin(ctx, "lab.delete_alias")
    deleted, _ = Alias.objects.filter(name=str(alias), device_type=lookup.device_type(name, ctx)).delete()
    if not deleted:
        raise fault(404, f"Alias '{alias}' of '{name}' was not found.")
