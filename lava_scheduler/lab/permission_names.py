"""The reference's per-object permission names, as lavacli and REST clients send them (Django-free)."""

DEVICE_PERMISSIONS = ("view_device", "submit_to_device", "change_device")
DEVICE_TYPE_PERMISSIONS = ("view_devicetype", "submit_to_devicetype", "change_devicetype")
WORKER_PERMISSIONS = ("view_worker", "change_worker")
