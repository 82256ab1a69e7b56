from django.contrib import admin

from lava_scheduler.permissions.models import (
    GroupDevicePermission,
    GroupDeviceTypePermission,
    GroupWorkerPermission,
)


@admin.register(GroupDeviceTypePermission)
class GroupDeviceTypePermissionAdmin(admin.ModelAdmin):
    list_display = ["device_type", "group", "permission"]
    list_filter = ["permission", "group"]
    search_fields = ["device_type__name", "group__name"]


@admin.register(GroupDevicePermission)
class GroupDevicePermissionAdmin(admin.ModelAdmin):
    list_display = ["device", "group", "permission"]
    list_filter = ["permission", "group"]
    search_fields = ["device__hostname", "group__name"]


@admin.register(GroupWorkerPermission)
class GroupWorkerPermissionAdmin(admin.ModelAdmin):
    list_display = ["worker", "group", "permission"]
    list_filter = ["permission", "group"]
    search_fields = ["worker__hostname", "group__name"]
