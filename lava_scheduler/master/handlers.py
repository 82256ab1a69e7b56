"""What the master does with each message from a worker: database work, and the answers.

Every handler takes the worker's hostname and the decoded message and returns
the messages to send back (possibly none). Handlers are idempotent: a message
re-sent after a lost answer changes nothing the second time.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

import lava_common
from lava_common import file_modes
from lava_common.protocol import DEFAULT_HEARTBEAT, encode
from lava_scheduler.events import wake_scheduler
from lava_scheduler.jobs.dynamic import dynamic_jobs_on, job_worker
from lava_scheduler.jobs.failure import STDERR_FILE
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import Worker
from lava_scheduler.logs.ingest import LogStorageError, store_log_lines
from lava_scheduler.logs.store import job_output_dir

log = logging.getLogger("lava-master")
Reply = list[bytes]


def _job_on_worker(hostname: str, job_id: int) -> TestJob | None:
    job = TestJob.objects.select_related("actual_device").filter(pk=job_id).first()
    if job is None or job_worker(job) != hostname:
        return None
    return job


def on_hello(hostname: str, message: dict[str, Any]) -> Reply:
    version = str(message["version"])
    if version != lava_common.__version__ and not settings.ALLOW_VERSION_MISMATCH:
        reason = f"version mismatch: worker {version}, server {lava_common.__version__}"
        log.warning("%s refused: %s", hostname, reason)
        return [encode("refused", reason=reason)]
    known = {int(job["id"]) for job in message["jobs"] if isinstance(job, dict) and "id" in job}
    with transaction.atomic():
        worker = Worker.objects.select_for_update().get(pk=hostname)
        was_offline = worker.state != 0
        worker.go_state_online(version)
        worker.save()
        lost = list(TestJob.objects.select_for_update().filter(
            state__in=(JobState.RUNNING, JobState.CANCELING), actual_device__worker_host=worker
        ).exclude(pk__in=known))
        lost += [TestJob.objects.select_for_update().get(pk=job.pk)
                 for job in dynamic_jobs_on([hostname], (JobState.RUNNING, JobState.CANCELING)) if job.pk not in known]
        for job in lost:
            if job.start_time is None and job.state == JobState.CANCELING:
                continue  # never started there: the next `cancel` gets an `end` from the worker
            log.warning("job %s: worker %s does not know it any more", job.pk, hostname)
            job.go_state_finished(JobHealth.INCOMPLETE, "Infrastructure", f"worker {hostname} lost the job (restarted without its state?)")
        if was_offline:
            wake_scheduler("worker")
    log.info("%s online (version %s, %d job(s) in progress)", hostname, version, len(known))
    return [encode("hello-ok", heartbeat=DEFAULT_HEARTBEAT)]


def on_heartbeat(hostname: str, message: dict[str, Any]) -> Reply:
    with transaction.atomic():
        worker = Worker.objects.select_for_update().get(pk=hostname)
        was_offline = worker.state != 0
        worker.go_state_online()
        worker.save(update_fields=["state", "last_ping", "version"])
        if was_offline:
            wake_scheduler("worker")
    return [encode("heartbeat-ok")]


def on_start_ok(hostname: str, message: dict[str, Any]) -> Reply:
    with transaction.atomic():
        job = _job_on_worker(hostname, message["job_id"])
        if job is not None:
            job = TestJob.objects.select_for_update().get(pk=job.pk)
            if job.state == JobState.SCHEDULED:
                job.go_state_running()
    return []


def on_start_failed(hostname: str, message: dict[str, Any]) -> Reply:
    with transaction.atomic():
        job = _job_on_worker(hostname, message["job_id"])
        if job is not None:
            job = TestJob.objects.select_for_update().get(pk=job.pk)
            if job.state != JobState.FINISHED:
                job.go_state_finished(JobHealth.INCOMPLETE, "Infrastructure", f"the worker could not start lava-run: {message['error']}")
                wake_scheduler("job-end")
    return []


def on_logs(hostname: str, message: dict[str, Any]) -> Reply:
    job_id = message["job_id"]
    if _job_on_worker(hostname, job_id) is None:
        return [encode("logs-ok", job_id=job_id, count=int(message["start"]) + len(message["lines"]))]
    lines = [str(line) for line in message["lines"]]
    try:
        count = store_log_lines(job_id, int(message["start"]), lines)
    except LogStorageError as exc:
        return [encode("logs-ok", job_id=job_id, count=exc.stored, error=str(exc))]
    return [encode("logs-ok", job_id=job_id, count=count)]


def on_end(hostname: str, message: dict[str, Any]) -> Reply:
    job_id = message["job_id"]
    done = [encode("end-ok", job_id=job_id)]
    with transaction.atomic():
        job = _job_on_worker(hostname, job_id)
        if job is None:
            return done  # deleted, or never this worker's: nothing to keep
        job = TestJob.objects.select_for_update().get(pk=job_id)
        if job.state == JobState.FINISHED:
            return done
        if job.log_lines < int(message["log_lines"]):
            return [encode("logs-ok", job_id=job_id, count=job.log_lines)]
        health = JobHealth.COMPLETE if message["result"] == "pass" else JobHealth.INCOMPLETE
        error_type = str(message["error_type"] or "")
        if health == JobHealth.COMPLETE:
            error_type = ""
        directory = job_output_dir(job)
        file_modes.make_dirs(directory)
        stderr_tail = str(message["errors"] or "")
        if stderr_tail:  # for admins; the user gets one sentence in failure_comment
            file_modes.write_text(directory / STDERR_FILE, stderr_tail + "\n")
        file_modes.write_text(directory / "description.yaml", str(message["description"] or ""))
        job.go_state_finished(health, error_type, str(message["error_msg"] or ""))
        wake_scheduler("job-end")
    log.info("job %s finished: %s", job_id, job.get_health_display())
    return done


HANDLERS: dict[str, Callable[[str, dict[str, Any]], Reply]] = {
    "hello": on_hello,
    "heartbeat": on_heartbeat,
    "start-ok": on_start_ok,
    "start-failed": on_start_failed,
    "logs": on_logs,
    "end": on_end,
}
