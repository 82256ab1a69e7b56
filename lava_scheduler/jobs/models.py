"""The test job and its transitions.

Transition methods check the current state, change job and device together
and save both; callers hold the rows locked (``select_for_update``) inside a
transaction when several processes may race for them.
"""

import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from lava_common.exceptions import INFRASTRUCTURE_ERROR_TYPES
from lava_scheduler.jobs.essential import cancel_group_of_essential
from lava_scheduler.jobs.failure import failure_sentence
from lava_scheduler.jobs.states import JobHealth, JobPriority, JobState
from lava_scheduler.lab.guarded import GuardedStateModel
from lava_scheduler.lab.models import Device, DeviceType, Tag, Worker
from lava_scheduler.lab.states import TransitionError
from lava_scheduler.prepared import insert_returning_pk

UNFINISHED = ~Q(state=JobState.FINISHED)
# what visibility.visible_jobs() reads of a job when its user may see every device
VISIBILITY_COLUMNS = ["id", "is_public", "submitter"]


def new_job_token() -> str:
    return secrets.token_hex(16)


def state_once_assigned(target_group: str) -> int:
    """A queued job given a device: a MultiNode sub-job waits for its group, any other may start."""
    return JobState.SCHEDULING if target_group else JobState.SCHEDULED


class JobFailureTag(models.Model):
    name = models.CharField(max_length=256, unique=True)
    description = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return self.name


class TestJob(GuardedStateModel):
    __test__ = False  # not a pytest test class

    sub_id = models.CharField(max_length=200, blank=True, default="")
    target_group = models.CharField(max_length=64, blank=True, default="")
    description = models.CharField(max_length=200, blank=True, default="")

    submitter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # the foreign keys' own indexes are in Meta.indexes: a composite one leads with the column, or a
    # partial one skips the NULLs (see the indexes' comment there)
    requested_device_type = models.ForeignKey(
        DeviceType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    requested_device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    requested_worker = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="jobs")
    # no foreign-key constraint in the database (migration jobs 0011): its check cost the scheduler a
    # lookup per reserved job at commit; a device's deletion unlinks its jobs, through Django and, on
    # PostgreSQL, a trigger that runs once the device's row is locked (a reservation under way commits first)
    actual_device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs", db_index=False,
        db_constraint=False,
    )
    health_check = models.BooleanField(default=False)
    priority = models.IntegerField(default=JobPriority.MEDIUM)

    is_public = models.BooleanField(default=False)
    viewing_groups = models.ManyToManyField("auth.Group", blank=True, related_name="+")

    definition = models.TextField()
    original_definition = models.TextField(blank=True, default="")
    multinode_definition = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)

    submit_time = models.DateTimeField(default=timezone.now)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    queue_timeout = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")

    state = models.IntegerField(choices=JobState.choices, default=JobState.SUBMITTED, editable=False)
    health = models.IntegerField(choices=JobHealth.choices, default=JobHealth.UNKNOWN, editable=False)
    failure_tags = models.ManyToManyField(JobFailureTag, blank=True, related_name="jobs")
    failure_comment = models.TextField(blank=True, default="")
    error_type = models.CharField(max_length=32, blank=True, default="")
    error_msg = models.TextField(blank=True, default="")

    token = models.CharField(max_length=32, default=new_job_token, editable=False)
    log_lines = models.PositiveIntegerField(default=0, editable=False, help_text="log lines stored")

    class Meta:
        ordering = ["-submit_time", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["actual_device"], condition=UNFINISHED, name="one_unfinished_job_per_device"
            ),
            models.UniqueConstraint(fields=["sub_id"], condition=~Q(sub_id=""), name="unique_sub_id"),
            models.CheckConstraint(
                condition=Q(priority__gte=0, priority__lte=100), name="priority_between_0_and_100"
            ),
        ]
        # Every index costs each write that moves a job (the scheduler places a thousand a pass and no
        # such UPDATE can be HOT: it changes state and actual_device): no index repeats the leading
        # column of another, and the columns that are mostly NULL or empty are indexed where they are not.
        indexes = [
            # the jobs lists read ids first (web/paging.py): the visibility rule's columns are in the
            # index, so that the jobs one may not see are skipped without reading them
            models.Index(fields=["-submit_time"], include=VISIBILITY_COLUMNS, name="job_submit_time"),
            models.Index(fields=["-start_time"], name="job_start_time"),
            models.Index(fields=["-end_time"], name="job_end_time"),
            models.Index(fields=["requested_device_type", "-submit_time"], name="job_type_submit"),
            # the jobs list filtered by type and health (e.g. "incomplete on type X"), newest first; a job
            # has a health once it ends: the scheduler's and the master's UPDATEs before that write no
            # entry (a filter on Unknown reads job_type_submit, where the newest jobs are)
            models.Index(fields=["requested_device_type", "health", "-submit_time"],
                         condition=~Q(health=JobHealth.UNKNOWN), name="job_type_health_submit"),
            models.Index(fields=["actual_device", "-submit_time"], name="job_device_submit"),
            models.Index(fields=["requested_device"], condition=Q(requested_device__isnull=False),
                         name="job_requested_device"),
            models.Index(fields=["requested_worker"], condition=Q(requested_worker__isnull=False),
                         name="job_requested_worker"),
            models.Index(fields=["target_group"], condition=~Q(target_group=""), name="job_target_group"),
            models.Index(fields=["state", "health"], name="job_state_health"),
            # each type's queue in the scheduler's order (lab_view.QUEUE_ORDER): its head is read, not sorted
            models.Index(
                fields=["requested_device_type", "-priority", "submit_time", "sub_id", "id"],
                condition=Q(state=JobState.SUBMITTED),
                name="job_queue",
            ),
            models.Index(
                fields=["actual_device", "-submit_time"], condition=Q(health_check=True), name="job_health_checks"
            ),
            # the jobs list of health checks alone (kind=health), newest first: without it, a scan of every job
            models.Index(fields=["-submit_time"], include=VISIBILITY_COLUMNS, condition=Q(health_check=True),
                         name="job_health_checks_by_time"),
            models.Index(
                fields=["actual_device", "-start_time"],
                condition=Q(state=JobState.FINISHED, health_check=False),
                name="job_finished_per_device",
            ),
            # the scheduler's queue timeouts, every pass: the few queued jobs that have one, not the
            # whole queue (a scheduled job leaves it: the pass's own UPDATEs write no entry here)
            models.Index(fields=["submit_time"], condition=Q(state=JobState.SUBMITTED, queue_timeout__isnull=False),
                         name="job_queue_timeout"),
        ]

    def __str__(self) -> str:
        return f"job {self.display_id}"

    def _do_insert(self, manager, using, fields, returning_fields, raw):
        # every jobs.submit writes this 26-column row: the ORM compiled it and PostgreSQL planned it
        # each time (0.6 ms of the web process's CPU), a prepared statement writes the same row
        # (save()'s signals, defaults and state handling are untouched: only the INSERT differs)
        if not raw:
            rows = insert_returning_pk(self, using, fields, returning_fields)
            if rows is not None:
                return rows
        return super()._do_insert(manager, using, fields, returning_fields, raw)

    @property
    def display_id(self) -> str:
        return self.sub_id or str(self.pk)

    @property
    def is_multinode(self) -> bool:
        return bool(self.target_group)

    @property
    def is_dynamic_connection(self) -> bool:
        """A MultiNode secondary connection: no device of its own, its host role's worker runs it."""
        return bool(self.target_group) and self.requested_device_type_id is None

    # transitions

    def _require(self, allowed: tuple[int, ...], action: str) -> None:
        if self.state not in allowed:
            names = ", ".join(JobState(s).label for s in allowed)
            raise TransitionError(f"job {self.display_id} is {self.get_state_display()}: cannot {action} (needs {names})")

    def _reserve(self, device: Device, state: int) -> None:
        self._require((JobState.SUBMITTED,), "reserve a device")
        device.go_state_reserved(self)
        self.actual_device = device
        self._set_guarded("state", state)

    @transaction.atomic
    def go_state_scheduling(self, device: Device) -> None:
        """A multinode sub-job got its device; it waits for the rest of its group."""
        self._reserve(device, JobState.SCHEDULING)
        self.save()
        device.save()

    @transaction.atomic
    def go_state_scheduled(self, device: Device | None = None) -> None:
        """The job has its device (or its whole MultiNode group has): the worker may start it."""
        if self.state == JobState.SCHEDULING:
            self._set_guarded("state", JobState.SCHEDULED)
            self.save()
            return
        if device is None and self.is_dynamic_connection and self.state == JobState.SUBMITTED:
            self._set_guarded("state", JobState.SCHEDULED)  # its group is scheduled: its host has a device
            self.save()
            return
        if device is None:
            raise TransitionError(f"job {self.display_id}: scheduling needs a device")
        self._reserve(device, JobState.SCHEDULED)
        self.save()
        device.save()

    @transaction.atomic
    def go_state_running(self) -> None:
        """The worker reports that lava-run started."""
        self._require((JobState.SCHEDULED,), "start running")
        self._set_guarded("state", JobState.RUNNING)
        self.start_time = timezone.now()
        device = self.actual_device
        self.save()
        if device is not None:  # a dynamic connection has none
            device.go_state_running(self)
            device.save()

    @transaction.atomic
    def cancel(self, reason: str = "") -> None:
        """Cancel: a queued job ends at once; one on a device goes Canceling until the worker stops it."""
        if self.state == JobState.SUBMITTED:
            self._set_guarded("state", JobState.FINISHED)
            self._set_guarded("health", JobHealth.CANCELED)
            self.end_time = timezone.now()
            if reason:
                self.failure_comment = reason
            self.save()
            cancel_group_of_essential(self, "was canceled")
            return
        self._require((JobState.SCHEDULING, JobState.SCHEDULED, JobState.RUNNING), "be canceled")
        self._set_guarded("state", JobState.CANCELING)
        if reason:
            self.failure_comment = reason
        self.save()
        cancel_group_of_essential(self, "was canceled")

    @transaction.atomic
    def go_state_finished(self, health: int, error_type: str = "", error_msg: str = "") -> None:
        """The job ended; frees its device and applies the device health rules."""
        if health == JobHealth.UNKNOWN:
            raise TransitionError(f"job {self.display_id}: a finished job needs a health other than Unknown")
        self._require(
            (JobState.SUBMITTED, JobState.SCHEDULING, JobState.SCHEDULED, JobState.RUNNING, JobState.CANCELING),
            "finish",
        )
        if self.state == JobState.CANCELING:
            health = JobHealth.CANCELED
        now = timezone.now()
        self._set_guarded("state", JobState.FINISHED)
        self._set_guarded("health", JobHealth(health))
        self.end_time = now
        if self.start_time is None:
            self.start_time = now
        self.error_type = error_type
        self.error_msg = error_msg
        if self.health == JobHealth.COMPLETE:
            self.failure_comment = ""
        elif not self.failure_comment:  # a cancel reason, when there is one, says it better
            self.failure_comment = failure_sentence(error_type, error_msg)
        self.save()
        device = self.actual_device
        if device is not None:
            device = Device.objects.select_for_update().get(pk=device.pk)
            device.go_state_idle(self)
            device.apply_job_outcome(self, error_type in INFRASTRUCTURE_ERROR_TYPES)
            device.save()
        if self.health in (JobHealth.INCOMPLETE, JobHealth.CANCELED):
            cancel_group_of_essential(self, f"ended {self.get_health_display()}")
