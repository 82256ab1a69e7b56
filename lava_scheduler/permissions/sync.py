"""``manage sync``: the database rows of every device whose dictionary carries ``sync_to_lava``.

Creates or updates the device (type, worker, tags, physical owner and group),
the type's aliases and the device's group permissions, which become exactly
the ones the dictionary lists. A device synced before whose dictionary is gone
or no longer has ``sync_to_lava`` is retired, never deleted: its jobs stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.db import transaction

from lava_scheduler.device_config import template_exists
from lava_scheduler.lab.models import Alias, Device, DeviceType, Tag, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.lab.sync_spec import SyncSpec, SyncSpecError, read_sync_spec
from lava_scheduler.permissions.models import GroupDevicePermission


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_specs(devices_path: Path) -> tuple[dict[str, SyncSpec], list[str]]:
    """hostname -> spec for every dictionary with sync_to_lava, and the errors of the others."""
    specs: dict[str, SyncSpec] = {}
    errors = []
    for path in sorted(devices_path.glob("*.jinja2")):
        try:
            spec = read_sync_spec(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(f"{path}: cannot read: {exc}")
            continue
        except SyncSpecError as exc:
            errors.append(str(exc))
            continue
        if spec is not None:
            specs[path.stem] = spec
    return specs, errors


def _named(model, field_name: str, name: str | None, where: str):
    if name is None:
        return None
    found = model.objects.filter(**{field_name: name}).first()
    if found is None:
        raise SyncSpecError(f"{where}: no {model.__name__.lower()} named {name!r}")
    return found


def _apply(hostname: str, spec: SyncSpec, device_types_paths: list[Path]) -> str:
    """'created', 'updated' or 'unchanged'; SyncSpecError names what is missing."""
    where = f"{hostname}: sync_to_lava"
    if not template_exists(spec.device_type, device_types_paths):
        raise SyncSpecError(f"{where}.device_type: no template {spec.device_type}.jinja2")
    owner = _named(User, "username", spec.physical_owner, f"{where}.physical_owner")
    group = _named(Group, "name", spec.physical_group, f"{where}.physical_group")
    permission_groups = {name: _named(Group, "name", name, f"{where}.group_device_permissions")
                         for _, name in spec.group_permissions}
    device_type, _ = DeviceType.objects.get_or_create(name=spec.device_type)
    for alias in spec.aliases:
        existing = Alias.objects.filter(name=alias).first()
        if existing is not None and existing.device_type_id != device_type.name:
            raise SyncSpecError(f"{where}.aliases: {alias!r} is already an alias of {existing.device_type_id}")
        Alias.objects.get_or_create(name=alias, device_type=device_type)
    worker, _ = Worker.objects.get_or_create(hostname=spec.worker)
    device = Device.objects.select_for_update().filter(hostname=hostname).first()
    outcome = "unchanged"
    if device is None:
        device = Device.objects.create(hostname=hostname, device_type=device_type, worker_host=worker,
                                       physical_owner=owner, physical_group=group, is_synced=True)
        outcome = "created"
    else:
        wanted = {"device_type_id": device_type.name, "worker_host_id": worker.hostname,
                  "physical_owner_id": owner.pk if owner else None, "physical_group_id": group.pk if group else None,
                  "is_synced": True}
        changed = [name for name, value in wanted.items() if getattr(device, name) != value]
        if changed:
            for name in changed:
                setattr(device, name, wanted[name])
            device.save(update_fields=[name.removesuffix("_id") for name in changed])
            outcome = "updated"
        if device.health == DeviceHealth.RETIRED:
            device.go_health(DeviceHealth.MAINTENANCE, "its dictionary has sync_to_lava again", manual=True)
            device.save()
            outcome = "updated"
    tags = {Tag.objects.get_or_create(name=name)[0].pk for name in spec.tags}
    if set(device.tags.values_list("pk", flat=True)) != tags:
        device.tags.set(tags)
        outcome = "updated" if outcome == "unchanged" else outcome
    wanted_rows = {(permission, permission_groups[name].pk) for permission, name in spec.group_permissions}
    rows = GroupDevicePermission.objects.filter(device=device)
    if set(rows.values_list("permission", "group_id")) != wanted_rows:
        rows.delete()
        GroupDevicePermission.objects.bulk_create([
            GroupDevicePermission(device=device, group_id=group_id, permission=permission)
            for permission, group_id in sorted(wanted_rows)
        ])
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


def sync_devices(devices_path: Path, device_types_paths: list[Path], dry_run: bool = False) -> SyncReport:
    specs, errors = read_specs(devices_path)
    report = SyncReport(errors=errors)
    for hostname, spec in specs.items():
        try:
            with transaction.atomic():
                outcome = _apply(hostname, spec, device_types_paths)
                getattr(report, outcome).append(hostname)
                if dry_run:
                    transaction.set_rollback(True)
        except SyncSpecError as exc:
            report.errors.append(str(exc))
    for device in Device.objects.filter(is_synced=True).exclude(hostname__in=list(specs)):
        if device.health == DeviceHealth.RETIRED:
            continue
        with transaction.atomic():
            device.go_health(DeviceHealth.RETIRED, "its dictionary no longer has sync_to_lava", manual=True)
            device.save()
            report.retired.append(device.hostname)
            if dry_run:
                transaction.set_rollback(True)
    return report
