"""Storing a batch of log lines sent by a worker, exactly once.

The number of stored lines is kept on the job row, in the same transaction
as the results those lines carry. The log file is cut back to that number
before appending, so a crash between the file write and the commit neither
loses nor duplicates anything: the worker re-sends from the acknowledged count.
"""

from django.db import transaction

from lava_common.log import parse_record
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.ingest import ResultsWriter


def _parse(line: str):
    try:
        return parse_record(line)
    except ValueError:
        return None  # not a record: kept in the log as sent, carries no result


def store_log_lines(job_id: int, start: int, lines: list[str]) -> int:
    """Store the lines not stored yet; returns how many lines the job's log now has."""
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
