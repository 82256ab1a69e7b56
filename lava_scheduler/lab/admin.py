from django.contrib import admin

from lava_scheduler.lab.models import Alias, Device, DeviceTransition, DeviceType, Tag, Worker


class AliasInline(admin.TabularInline):
    model = Alias
    extra = 0


@admin.register(DeviceType)
class DeviceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "display", "health_frequency", "health_denominator", "disable_health_check"]
    inlines = [AliasInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    # state and health change through their transition methods: use `manage workers update`
    list_display = ["hostname", "state", "health", "last_ping", "version", "job_limit"]
    readonly_fields = ["state", "health", "last_ping", "version"]


class TransitionInline(admin.TabularInline):
    model = DeviceTransition
    extra = 0
    can_delete = False
    readonly_fields = ["created", "field", "old_value", "new_value", "reason", "user", "job"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["hostname", "device_type", "state", "health", "worker_host"]
    list_filter = ["device_type", "state", "health", "worker_host"]
    readonly_fields = ["state", "health", "last_health_report_job"]
    inlines = [TransitionInline]
