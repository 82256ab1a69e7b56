from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "lava_scheduler.permissions"
    label = "permissions"
    verbose_name = "Group permissions on devices"
