"""The periodic retention pass, run by the scheduler's side thread.

Settings: ``LOG_COMPRESSION_DAYS`` (compress the logs of jobs that ended
longer ago; 0: never), ``JOB_RETENTION_DAYS`` (remove such jobs with their
files; 0: keep forever), ``RETENTION_INTERVAL`` (seconds between passes),
``RETENTION_BATCH`` (jobs per batch). Compression remembers how far it got
(``STATE_DIR/retention-compressed-until``) so a pass only looks at jobs that
ended since the previous one.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from lava_scheduler.retention.prune import compress_logs, old_jobs, remove_jobs

log = logging.getLogger("lava-retention")
PAUSE = 0.5  # between batches: the database serves others meanwhile


def _mark_path() -> Path:
    return Path(settings.STATE_DIR) / "retention-compressed-until"


def _compressed_until() -> datetime | None:
    try:
        return datetime.fromisoformat(_mark_path().read_text().strip())
    except (OSError, ValueError):
        return None


def run_once(now: datetime | None = None, pause: float = PAUSE) -> None:
    now = now or timezone.now()
    batch = int(settings.RETENTION_BATCH)
    if settings.LOG_COMPRESSION_DAYS:
        cutoff = now - timedelta(days=settings.LOG_COMPRESSION_DAYS)
        jobs = old_jobs(cutoff)
        since = _compressed_until()
        if since is not None:
            jobs = jobs.filter(end_time__gte=since)
        outcome = compress_logs(jobs, batch, pause)
        _mark_path().write_text(cutoff.isoformat())
        if outcome.jobs or outcome.errors:
            log.info("compressed %d log(s), %d bytes saved, %d error(s)", outcome.jobs, outcome.bytes, outcome.errors)
    if settings.JOB_RETENTION_DAYS:
        outcome = remove_jobs(old_jobs(now - timedelta(days=settings.JOB_RETENTION_DAYS)), batch, pause=pause)
        if outcome.jobs:
            log.info("removed %d job(s) older than %d days", outcome.jobs, settings.JOB_RETENTION_DAYS)


def run(should_stop: Callable[[], bool]) -> None:
    next_pass = 0.0
    while not should_stop():
        if time.monotonic() >= next_pass:
            try:
                run_once()
            except (DatabaseError, OSError) as exc:
                log.error("retention pass failed: %s; next pass in %s s", exc, settings.RETENTION_INTERVAL)
                close_old_connections()
            next_pass = time.monotonic() + float(settings.RETENTION_INTERVAL)
        time.sleep(1.0)


def start_thread(should_stop: Callable[[], bool]) -> threading.Thread | None:
    if not (settings.LOG_COMPRESSION_DAYS or settings.JOB_RETENTION_DAYS):
        return None
    thread = threading.Thread(target=run, args=(should_stop,), name="retention", daemon=True)
    thread.start()
    return thread
