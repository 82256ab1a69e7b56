"""Device types, aliases, tags, workers and devices."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from lava_scheduler.lab.guarded import GuardedStateModel
from lava_scheduler.lab.states import (
    DeviceHealth,
    DeviceState,
    HealthDenominator,
    TransitionError,
    WorkerHealth,
    WorkerState,
)

no_slash = RegexValidator(r"^[^/]+$", "may not contain '/'")
hostname_chars = RegexValidator(r"^[-_a-zA-Z0-9.]+$", "only letters, digits, '-', '_' and '.' are allowed")


class DeviceType(models.Model):
    name = models.CharField(primary_key=True, max_length=50, validators=[no_slash, hostname_chars])
    description = models.TextField(blank=True, default="")
    architecture = models.CharField(max_length=100, blank=True, default="")
    processor = models.CharField(max_length=100, blank=True, default="")
    cpu_model = models.CharField(max_length=100, blank=True, default="")
    bits = models.PositiveSmallIntegerField(null=True, blank=True)
    core_count = models.PositiveSmallIntegerField(null=True, blank=True)
    health_frequency = models.IntegerField(default=24)
    health_denominator = models.IntegerField(choices=HealthDenominator.choices, default=HealthDenominator.HOURS)
    disable_health_check = models.BooleanField(default=False)
    display = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if Alias.objects.filter(name=self.name).exists():
            raise ValidationError({"name": f"'{self.name}' is already an alias"})


class Alias(models.Model):
    name = models.CharField(primary_key=True, max_length=200, validators=[no_slash])
    device_type = models.ForeignKey(DeviceType, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "aliases"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if DeviceType.objects.filter(name=self.name).exists():
            raise ValidationError({"name": f"'{self.name}' is already a device type"})


class Tag(models.Model):
    name = models.SlugField(unique=True, max_length=100)
    description = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Worker(GuardedStateModel):
    hostname = models.CharField(primary_key=True, max_length=200, validators=[hostname_chars])
    description = models.TextField(blank=True, default="")
    state = models.IntegerField(choices=WorkerState.choices, default=WorkerState.OFFLINE, editable=False)
    health = models.IntegerField(choices=WorkerHealth.choices, default=WorkerHealth.ACTIVE, editable=False)
    last_ping = models.DateTimeField(null=True, blank=True)
    job_limit = models.PositiveIntegerField(default=0, help_text="0: no limit")
    version = models.CharField(max_length=50, blank=True, default="")
    public_key = models.CharField(
        max_length=40, blank=True, default="", help_text="Z85 CURVE public key the worker authenticates with"
    )

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    # state: driven by the master from the worker's heartbeats

    def go_state_online(self, version: str = "") -> None:
        self._set_guarded("state", WorkerState.ONLINE)
        self.last_ping = timezone.now()
        if version:
            self.version = version

    def go_state_offline(self) -> None:
        self._set_guarded("state", WorkerState.OFFLINE)

    # health: set by admins; cascades to the worker's devices

    def go_health_active(self, user=None, reason: str = "") -> None:
        was_retired = self.health == WorkerHealth.RETIRED
        self._set_guarded("health", WorkerHealth.ACTIVE)
        if was_retired:
            return
        for device in self.devices.select_for_update().filter(health=DeviceHealth.GOOD):
            device.go_health(DeviceHealth.UNKNOWN, f"worker {self.hostname} back to Active", user)
            device.save()

    def go_health_maintenance(self, user=None, reason: str = "") -> None:
        self._set_guarded("health", WorkerHealth.MAINTENANCE)

    def go_health_retired(self, user=None, reason: str = "") -> None:
        self._set_guarded("health", WorkerHealth.RETIRED)
        keep = (DeviceHealth.BAD, DeviceHealth.RETIRED)
        for device in self.devices.select_for_update().exclude(health__in=keep):
            device.go_health(DeviceHealth.RETIRED, f"worker {self.hostname} retired", user)
            device.save()

    def go_health(self, health: int, user=None, reason: str = "") -> None:
        {
            WorkerHealth.ACTIVE: self.go_health_active,
            WorkerHealth.MAINTENANCE: self.go_health_maintenance,
            WorkerHealth.RETIRED: self.go_health_retired,
        }[WorkerHealth(health)](user, reason)


class Device(GuardedStateModel):
    hostname = models.CharField(primary_key=True, max_length=200, validators=[hostname_chars])
    device_type = models.ForeignKey(DeviceType, on_delete=models.PROTECT, related_name="devices")
    device_version = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    physical_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    physical_group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="devices")
    state = models.IntegerField(choices=DeviceState.choices, default=DeviceState.IDLE, editable=False)
    health = models.IntegerField(choices=DeviceHealth.choices, default=DeviceHealth.MAINTENANCE, editable=False)
    worker_host = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    last_health_report_job = models.OneToOneField(
        "jobs.TestJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_synced = models.BooleanField(default=False)

    class Meta:
        # No index holds state or health: changing them is then a HOT update (no index touched, the
        # new row version in the same page: the table keeps room, see migration lab 0002), and the
        # scheduler reserves a thousand devices a pass. The lookups by state scan a few thousand rows.
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    def _record(self, field: str, new: int, reason: str, user=None, job=None) -> None:
        old = getattr(self, field)
        self._set_guarded(field, new)
        if old != new:
            # the history row is written with the device, by save(), so a rolled-back
            # transition leaves no history behind
            self._pending_history = getattr(self, "_pending_history", [])
            self._pending_history.append(
                DeviceTransition(
                    device=self, field=field, old_value=old, new_value=new, reason=reason, user=user, job=job
                )
            )

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        pending = getattr(self, "_pending_history", None)
        if pending:
            DeviceTransition.objects.bulk_create(pending)
            self._pending_history = []

    # health

    def go_health(self, health: int, reason: str, user=None, job=None, manual: bool = False) -> None:
        """Change health; ``manual`` marks an admin's decision, the only way out of Retired."""
        health = DeviceHealth(health)
        if self.health == DeviceHealth.RETIRED and health != DeviceHealth.RETIRED and not manual:
            raise TransitionError(f"device {self.hostname} is Retired: only an admin can bring it back")
        self._record("health", health, reason, user, job)

    # state: follows the device's current job

    def go_state_reserved(self, job) -> None:
        if self.state != DeviceState.IDLE:
            raise TransitionError(
                f"device {self.hostname} is {self.get_state_display()}: only an Idle device can be reserved"
            )
        self._record("state", DeviceState.RESERVED, reserved_reason(job.pk), job=job)

    def go_state_running(self, job) -> None:
        if self.state not in (DeviceState.RESERVED, DeviceState.RUNNING):
            raise TransitionError(f"device {self.hostname} is {self.get_state_display()}, not Reserved")
        self._record("state", DeviceState.RUNNING, f"running job {job.pk}", job=job)

    def go_state_idle(self, job=None, reason: str = "") -> None:
        self._record("state", DeviceState.IDLE, reason or (f"job {job.pk} finished" if job else "idle"), job=job)

    def apply_job_outcome(self, job, infrastructure_error: bool) -> None:
        """Device health after a job ends on it (the reference's rules)."""
        if self.health in (DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED):
            return
        from lava_scheduler.jobs.states import JobHealth

        if job.health_check:
            self.last_health_report_job = job
            if self.health == DeviceHealth.LOOPING:
                return
            if job.health == JobHealth.COMPLETE:
                self.go_health(DeviceHealth.GOOD, f"health-check job {job.pk} complete", job=job)
            else:
                self.go_health(
                    DeviceHealth.BAD, f"health-check job {job.pk} {job.get_health_display().lower()}", job=job
                )
        elif infrastructure_error and self.health in (DeviceHealth.GOOD, DeviceHealth.UNKNOWN):
            self.go_health(DeviceHealth.UNKNOWN, f"job {job.pk} failed with an infrastructure error", job=job)


def reserved_reason(job_id: int) -> str:
    """Why a device went Reserved, in its history (also written in bulk by the scheduler)."""
    return f"reserved for job {job_id}"


class DeviceTransition(models.Model):
    """One change of a device's state or health, with why and who."""

    # the device's index is transition_device_time (same leading column); the user's skips the
    # automatic changes (no user).
    # The device and job links are not constraints in the database (migration lab 0003): a row is
    # written by the transaction that holds its device's row locked (Device.save updates it first;
    # the scheduler's bulk reservation locks the job's row too); deleting a device or a job goes
    # through Django, which deletes the device's rows (CASCADE) and unlinks the job's (SET_NULL), as
    # it always did. The database's checks cost the scheduler 2,000 lookups a pass of 1,000 jobs.
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="transitions", db_index=False,
                               db_constraint=False)
    # no index of its own (migration lab 0004): the device page reads transition_device_time, and the
    # admin's list of all rows goes by id (the order they were written in)
    created = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=10, choices=[("state", "state"), ("health", "health")])
    old_value = models.IntegerField()
    new_value = models.IntegerField()
    reason = models.TextField(blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             db_index=False)
    job = models.ForeignKey("jobs.TestJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            db_constraint=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["device", "-created"], name="transition_device_time"),
            models.Index(fields=["user"], condition=Q(user__isnull=False), name="transition_user"),
        ]

    def _label(self, value: int) -> str:
        enum = DeviceHealth if self.field == "health" else DeviceState
        return enum(value).label

    def __str__(self) -> str:
        return f"{self._label(self.old_value)} → {self._label(self.new_value)} ({self.reason})"
