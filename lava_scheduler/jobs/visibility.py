"""Who may see and change a job: one rule for the web UI, XML-RPC and REST.

- public job: anyone, even anonymous, who may see its device (or, before it
  has one, its device type: group permissions, ``permissions.rules``);
- personal job: its submitter (and superusers);
- group job (``visibility: {group: [...]}``): members of *all* its groups,
  and its submitter.
Changing (cancel, resubmit) needs the submitter, a superuser, the
``jobs.change_testjob`` permission, or change rights on the job's device
(device type before it has one). The secrets in a definition (see
``masking``) are for its submitter and superusers only: everyone else who may
see the job reads them masked.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.permissions.rules import (
    CHANGE,
    VIEW,
    device_allows,
    device_type_allows,
    hidden_device_types,
    hidden_devices,
)


def visible_jobs(user, jobs: QuerySet | None = None) -> QuerySet:
    jobs = TestJob.objects.all() if jobs is None else jobs
    if user is not None and user.is_authenticated and user.is_superuser:
        return jobs
    through = TestJob.viewing_groups.through.objects.filter(testjob_id=OuterRef("pk"))
    has_groups = Exists(through)
    public = Q(is_public=True) & ~has_groups & _on_visible_hardware(user)
    if user is None or not user.is_authenticated:
        return jobs.filter(public)
    foreign_group = Exists(through.exclude(group_id__in=user.groups.values("pk")))
    return jobs.filter(Q(submitter=user) | public | (has_groups & ~foreign_group))


def _on_visible_hardware(user) -> Q:
    """A public job shows only to those who may see its device (before it has one: the device
    it asks for, else its device type)."""
    devices, device_types = hidden_devices(user, VIEW), hidden_device_types(user, VIEW)
    condition = Q()
    if devices:
        condition &= ~Q(actual_device__in=devices) & ~Q(actual_device=None, requested_device__in=devices)
    if device_types:
        condition &= ~Q(actual_device=None, requested_device=None, requested_device_type__in=device_types)
    if devices or device_types:
        # a dynamic connection has no hardware of its own: it shows where every member of its group does
        hidden_sibling = TestJob.objects.filter(target_group=OuterRef("target_group")).filter(
            Q(actual_device__in=devices or ()) | Q(actual_device=None, requested_device_type__in=device_types or ()))
        condition &= ~(Q(actual_device=None, requested_device_type=None) & ~Q(target_group="") & Exists(hidden_sibling))
    return condition


def can_view(job: TestJob, user) -> bool:
    return visible_jobs(user, TestJob.objects.filter(pk=job.pk)).exists()


def can_change(job: TestJob, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or job.submitter_id == user.pk or user.has_perm("jobs.change_testjob"):
        return True
    # change rights on the job's device (or device type) include its jobs, as in the reference
    if job.actual_device_id:
        return device_allows(user, job.actual_device_id, CHANGE)
    return bool(job.requested_device_type_id) and device_type_allows(user, job.requested_device_type_id, CHANGE)


def can_read_secrets(job: TestJob, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or job.submitter_id == user.pk
