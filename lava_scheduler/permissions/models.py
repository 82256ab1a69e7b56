from django.contrib.auth.models import Group
from django.db import models

from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.permission_names import (
    DEVICE_PERMISSIONS,
    DEVICE_TYPE_PERMISSIONS,
    WORKER_PERMISSIONS,
)


class GroupDevicePermission(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="device_permissions")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="group_permissions")
    permission = models.CharField(max_length=50, choices=[(name, name) for name in DEVICE_PERMISSIONS])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "device", "permission"], name="one_device_perm")]
        ordering = ["device", "group__name", "permission"]
        # the global form of the row's permission (lab.view_device and lab.change_device are Django's own)
        permissions = [("submit_to_device", "Can submit jobs to every device")]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.permission} on {self.device_id}"


class GroupDeviceTypePermission(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="device_type_permissions")
    device_type = models.ForeignKey(DeviceType, on_delete=models.CASCADE, related_name="group_permissions")
    permission = models.CharField(max_length=50, choices=[(name, name) for name in DEVICE_TYPE_PERMISSIONS])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "device_type", "permission"], name="one_device_type_perm")
        ]
        ordering = ["device_type", "group__name", "permission"]
        permissions = [("submit_to_devicetype", "Can submit jobs to every device type")]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.permission} on {self.device_type_id}"


class GroupWorkerPermission(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="worker_permissions")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="group_permissions")
    permission = models.CharField(max_length=50, choices=[(name, name) for name in WORKER_PERMISSIONS])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "worker", "permission"], name="one_worker_perm")]
        ordering = ["worker", "group__name", "permission"]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.permission} on {self.worker_id}"
