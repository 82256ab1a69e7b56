"""A device's history as one reader may see it.

Each state change a job caused names that job, in its ``job`` link and in its
reason ("reserved for job 12"). A reader who may not see the job still sees
the change (the device was busy), but not which job it was.
"""

import re
from collections.abc import Iterable

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab.models import DeviceTransition

PRIVATE_JOB = "a private job"


def history_for(user, transitions: Iterable[DeviceTransition]) -> list[DeviceTransition]:
    """The transitions, those of jobs ``user`` may not see without the job (for display: never saved)."""
    rows = list(transitions)
    job_ids = {row.job_id for row in rows if row.job_id is not None}
    visible = set(visible_jobs(user, TestJob.objects.filter(pk__in=job_ids)).values_list("pk", flat=True))
    for row in rows:
        if row.job_id is not None and row.job_id not in visible:
            row.reason = re.sub(rf"\bjob {row.job_id}\b", PRIVATE_JOB, row.reason)
            row.job = None
    return rows
