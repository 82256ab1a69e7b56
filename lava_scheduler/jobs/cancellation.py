"""Canceling a job on a user's behalf: the one rule every API applies."""

from django.db import transaction

from lava_scheduler.events import wake_master
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.visibility import can_change


class CancelRefused(Exception):
    pass


def cancel_for(job: TestJob, user) -> TestJob:
    """Cancel ``job`` as ``user`` (already Canceling or Finished: nothing to do); CancelRefused says why not."""
    if not can_change(job, user):
        raise CancelRefused(f"'{user.username}' may not cancel job {job.display_id}")
    with transaction.atomic():
        job = TestJob.objects.select_for_update().get(pk=job.pk)
        if job.state not in (JobState.CANCELING, JobState.FINISHED):
            job.cancel(f"canceled by {user.username}")
            wake_master("cancel")
    return job
