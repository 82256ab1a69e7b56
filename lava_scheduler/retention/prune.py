"""Removing old finished jobs with their results, notifications and files."""

import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.logs.compression import compress_log
from lava_scheduler.logs.store import job_output_dir

log = logging.getLogger("lava-retention")
BATCH = 200


@dataclass
class Outcome:
    jobs: int = 0
    bytes: int = 0
    errors: int = 0


def old_jobs(before: datetime, health: int | None = None, submitter: str | None = None) -> QuerySet:
    """Finished jobs that ended before ``before`` (oldest first)."""
    jobs = TestJob.objects.filter(state=JobState.FINISHED, end_time__lt=before)
    if health is not None:
        jobs = jobs.filter(health=health)
    if submitter:
        jobs = jobs.filter(submitter__username=submitter)
    return jobs.order_by("end_time", "id")


def _batches(jobs: QuerySet, size: int) -> Iterator[list[TestJob]]:
    last_id = 0
    while True:
        batch = list(jobs.filter(id__gt=last_id).order_by("id").only("id", "submit_time")[:size])
        if not batch:
            return
        last_id = batch[-1].pk
        yield batch


def remove_jobs(jobs: QuerySet, batch_size: int = BATCH, logs_only: bool = False, pause: float = 0.0) -> Outcome:
    """Delete ``jobs`` (or only their log files) batch by batch; rows first, then files.

    A crash between the two leaves files without a job (harmless, found by
    nothing), never a job whose files are gone.
    """
    outcome = Outcome()
    for batch in _batches(jobs, batch_size):
        directories = [job_output_dir(job) for job in batch]
        if not logs_only:
            with transaction.atomic():
                TestJob.objects.filter(pk__in=[job.pk for job in batch], state=JobState.FINISHED).delete()
        for directory in directories:
            if logs_only:
                for name in ("output.yaml", "output.yaml.gz", "output.gzi", "output.idx"):
                    (directory / name).unlink(missing_ok=True)
            else:
                shutil.rmtree(directory, ignore_errors=True)
        outcome.jobs += len(batch)
        time.sleep(pause)
    return outcome


def compress_logs(jobs: QuerySet, batch_size: int = BATCH, pause: float = 0.0) -> Outcome:
    """Compress the logs of ``jobs`` that are not compressed yet."""
    outcome = Outcome()
    for batch in _batches(jobs, batch_size):
        for job in batch:
            try:
                saved = compress_log(job_output_dir(job))
            except OSError as exc:
                log.error("job %s: cannot compress its log: %s", job.pk, exc)
                outcome.errors += 1
                continue
            if saved:
                outcome.jobs += 1
                outcome.bytes += saved
        time.sleep(pause)
    return outcome
