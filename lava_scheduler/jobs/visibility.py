"""Who may see and change a job: one rule for the web UI, XML-RPC and REST.

- public job: anyone, even anonymous;
- personal job: its submitter (and superusers);
- group job (``visibility: {group: [...]}``): members of *all* its groups,
  and its submitter.
Changing (cancel, resubmit) needs the submitter, a superuser, or the
``jobs.change_testjob`` permission. The secrets in a definition (see
``masking``) are for its submitter and superusers only: everyone else who may
see the job reads them masked.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from lava_scheduler.jobs.models import TestJob


def visible_jobs(user, jobs: QuerySet | None = None) -> QuerySet:
    jobs = TestJob.objects.all() if jobs is None else jobs
    if user is not None and user.is_authenticated and user.is_superuser:
        return jobs
    through = TestJob.viewing_groups.through.objects.filter(testjob_id=OuterRef("pk"))
    has_groups = Exists(through)
    if user is None or not user.is_authenticated:
        return jobs.filter(is_public=True).exclude(has_groups)
    foreign_group = Exists(through.exclude(group_id__in=user.groups.values("pk")))
    return jobs.filter(
        Q(submitter=user) | (Q(is_public=True) & ~has_groups) | (has_groups & ~foreign_group)
    )


def can_view(job: TestJob, user) -> bool:
    return visible_jobs(user, TestJob.objects.filter(pk=job.pk)).exists()


def can_change(job: TestJob, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or job.submitter_id == user.pk or user.has_perm("jobs.change_testjob")


def can_read_secrets(job: TestJob, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or job.submitter_id == user.pk
