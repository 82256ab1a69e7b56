from django.contrib import admin

from lava_scheduler.permissions.models import GroupDevicePermission, GroupDeviceTypePermission


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
