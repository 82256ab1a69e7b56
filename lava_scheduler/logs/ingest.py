"""Storing a batch of log lines sent by a worker, exactly once.

The number of stored lines is kept on the job row, in the same transaction
as the results those lines carry. The log file is cut back to that number
before appending, so a crash between the file write and the commit neither
loses nor duplicates anything: the worker re-sends from the acknowledged count.

When the log cannot be written (a full disk), nothing of the batch is kept,
the job is canceled with the reason, and ``LogStorageError`` tells the
master to say so to the worker, which keeps the lines and sends them again:
once there is space the log completes and the job ends normally.
"""

import logging

from django.db import transaction

from lava_common.log import parse_record
from lava_scheduler.events import wake_master
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.ingest import ResultsWriter

log = logging.getLogger("lava-master")


def _parse(line: str):
    try:
        return parse_record(line)
    except ValueError:
        return None  # not a record: kept in the log as sent, carries no result


class LogStorageError(Exception):
    def __init__(self, stored: int, reason: str):
        super().__init__(reason)
        self.stored = stored


def _cancel_for_storage(job_id: int, reason: str) -> None:
    with transaction.atomic():
        job = TestJob.objects.select_for_update().get(pk=job_id)
        if job.state in (JobState.SCHEDULING, JobState.SCHEDULED, JobState.RUNNING):
            job.cancel(reason)
            wake_master("cancel")


def store_log_lines(job_id: int, start: int, lines: list[str]) -> int:
    """Store the lines not stored yet; returns how many lines the job's log now has.

    Raises ``LogStorageError`` when the log file cannot be written.
    """
    try:
        return _store(job_id, start, lines)
    except OSError as exc:
        job = TestJob.objects.get(pk=job_id)
        reason = (
            f"the server cannot store this job's log from line {job.log_lines + 1}: {exc.strerror or exc} "
            f"in {job_output_dir(job)}; the worker keeps the lines and sends them again"
        )
        log.error("job %s: %s", job_id, reason)
        _cancel_for_storage(job_id, reason)
        raise LogStorageError(job.log_lines, reason) from exc


def _store(job_id: int, start: int, lines: list[str]) -> int:
    with transaction.atomic():
        job = TestJob.objects.select_for_update().get(pk=job_id)
        stored = job.log_lines
        if start > stored or start < 0:
            return stored  # a gap: the worker must re-send from `stored`
        new = lines[stored - start :]
        if not new:
            return stored
        writer = ResultsWriter(job)
        for offset, line in enumerate(new):
            if "results" in line:
                record = _parse(line)
                if isinstance(record, dict) and record.get("lvl") == "results":
                    writer.add(record.get("msg"), stored + offset)
        writer.save()
        store = LogStore(job_output_dir(job))
        store.truncate(stored)
        store.append(new)
        job.log_lines = stored + len(new)
        TestJob.objects.filter(pk=job.pk).update(log_lines=job.log_lines)
        return job.log_lines
