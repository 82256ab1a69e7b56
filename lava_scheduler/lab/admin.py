from django.contrib import admin, messages
from django.db import transaction

from lava_scheduler.events import wake_scheduler
from lava_scheduler.lab.maintenance import set_maintenance
from lava_scheduler.lab.models import Alias, Device, DeviceTransition, DeviceType, Tag, Worker
from lava_scheduler.lab.states import DeviceHealth


def _maintenance_actions(scope: str):
    """Admin-site actions putting the selected workers or device types into maintenance, and back
    (the same as ``manage maintenance on|off --worker W / --device-type T``)."""

    def run(modeladmin, request, queryset, on: bool) -> None:
        reason = f"{'into' if on else 'out of'} maintenance from the admin site by {request.user.username}"
        changed = []
        for obj in queryset:
            outcome = set_maintenance(on, reason, request.user, **{scope: obj.pk})
            changed += outcome.devices
        modeladmin.message_user(request, f"{len(changed)} device(s) {reason}: {', '.join(changed) or 'none'}",
                                messages.SUCCESS)

    @admin.action(description="Put into maintenance (running jobs finish)")
    def maintenance_on(modeladmin, request, queryset) -> None:
        run(modeladmin, request, queryset, True)

    @admin.action(description="Take out of maintenance (a health check runs first)")
    def maintenance_off(modeladmin, request, queryset) -> None:
        run(modeladmin, request, queryset, False)

    return [maintenance_on, maintenance_off]


def _set_devices_health(request, devices, health: DeviceHealth, reason: str) -> None:
    with transaction.atomic():
        for device in devices.select_for_update():
            device.go_health(health, f"{reason} from the admin site by {request.user.username}", request.user,
                             manual=True)
            device.save()
    wake_scheduler("maintenance")


@admin.action(description="Put into maintenance (running jobs finish)")
def devices_maintenance_on(modeladmin, request, queryset) -> None:
    usable = queryset.exclude(health__in=(DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED))
    _set_devices_health(request, usable, DeviceHealth.MAINTENANCE, "into maintenance")


@admin.action(description="Take out of maintenance (a health check runs first)")
def devices_maintenance_off(modeladmin, request, queryset) -> None:
    _set_devices_health(request, queryset.filter(health=DeviceHealth.MAINTENANCE), DeviceHealth.UNKNOWN,
                        "out of maintenance")


class AliasInline(admin.TabularInline):
    model = Alias
    extra = 0


@admin.register(DeviceType)
class DeviceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "display", "health_frequency", "health_denominator", "disable_health_check"]
    inlines = [AliasInline]
    actions = _maintenance_actions("device_type")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    # state and health change through their transition methods: use `manage workers update`
    list_display = ["hostname", "state", "health", "last_ping", "version", "job_limit"]
    readonly_fields = ["state", "health", "last_ping", "version"]
    actions = _maintenance_actions("worker")


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
    actions = [devices_maintenance_on, devices_maintenance_off]
