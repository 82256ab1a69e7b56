"""Giving a device to the groups that own it: view, submit and change, for them only."""

from django.contrib.auth.models import Group

from lava_scheduler.lab.models import Device
from lava_scheduler.lab.permission_names import DEVICE_PERMISSIONS
from lava_scheduler.permissions.models import GroupDevicePermission


def give_device_to_groups(device: Device, groups: list[Group]) -> None:
    GroupDevicePermission.objects.bulk_create(
        [GroupDevicePermission(device=device, group=group, permission=p) for group in groups for p in DEVICE_PERMISSIONS],
        ignore_conflicts=True,
    )
