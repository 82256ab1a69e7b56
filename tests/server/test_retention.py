"""Retention: old jobs removed with their files, old logs compressed and still readable by range,
and a disk that fills during a job."""

import io
import random
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from lava_common.protocol import decode
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import Device
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.logs.compression import CHUNK, compress_log
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.master.handlers import on_logs
from lava_scheduler.results.models import TestCase, TestSuite
from lava_scheduler.retention import periodic
from lava_scheduler.scheduler.core import schedule
from tests.server.test_xmlrpc import proxy

OLD_JOBS = 3000
RECENT_JOBS = 300


def log_lines(count: int, width: int = 60) -> list[str]:
    return [f'- {{"dt": "2026-01-01T00:00:{i % 60:02d}", "lvl": "info", "msg": "line {i} {"x" * width}"}}'
            for i in range(count)]


def make_finished_jobs(user, device_type, count: int, ended: timedelta, health=JobHealth.COMPLETE) -> list[TestJob]:
    end = timezone.now() - ended
    jobs = [TestJob(submitter=user, requested_device_type=device_type, definition="job_name: old",
                    submit_time=end - timedelta(hours=1), start_time=end - timedelta(minutes=30), end_time=end)
            for _ in range(count)]
    for job in jobs:
        job._set_guarded("state", JobState.FINISHED)
        job._set_guarded("health", health)
    created = TestJob.objects.bulk_create(jobs, batch_size=1000)
    for job in created:
        LogStore(job_output_dir(job)).append(log_lines(3))
    return created


def run_rm(*args) -> str:
    out = io.StringIO()
    call_command("jobs", "rm", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def lab_settings(settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.STATE_DIR = tmp_path
    return settings


@pytest.mark.django_db(transaction=True)
def test_jobs_rm_removes_exactly_the_old_jobs_while_the_scheduler_schedules(lab_settings, user, device):
    old = make_finished_jobs(user, device.device_type, OLD_JOBS, timedelta(days=40))
    recent = make_finished_jobs(user, device.device_type, RECENT_JOBS, timedelta(days=10))
    old_incomplete = make_finished_jobs(user, device.device_type, 5, timedelta(days=40), JobHealth.INCOMPLETE)
    suite = TestSuite.objects.create(job=old[0], name="lava")
    TestCase.objects.create(suite=suite, name="boot", result=0)
    queued_old = TestJob.objects.create(submitter=user, requested_device_type=device.device_type,
                                        definition="job_name: queued", submit_time=timezone.now() - timedelta(days=60))

    assert "would remove 5 job(s)" in run_rm("--older-than", "30d", "--health", "incomplete", "--dry-run")
    assert "would remove 3005 job(s)" in run_rm("--older-than", "30d", "--dry-run")
    assert TestJob.objects.count() == OLD_JOBS + RECENT_JOBS + 5 + 1

    device.go_health(DeviceHealth.GOOD, "test setup")
    device.save()
    lab_settings.DEVICES_PATH = lab_settings.STATE_DIR / "devices"
    lab_settings.DEVICES_PATH.mkdir()
    (lab_settings.DEVICES_PATH / f"{device.hostname}.jinja2").write_text("{% extends 'qemu.jinja2' %}\n")

    def remove_in_thread() -> None:
        try:
            run_rm("--older-than", "30d", "--batch", "100")
        finally:
            connection.close()

    removal = threading.Thread(target=remove_in_thread)
    removal.start()
    passes = []
    while removal.is_alive():
        started = time.monotonic()
        schedule()
        passes.append(time.monotonic() - started)
    removal.join()

    assert max(passes) < 2.0, passes
    assert TestJob.objects.get(pk=queued_old.pk).state == JobState.SCHEDULED  # scheduled meanwhile
    left = set(TestJob.objects.values_list("pk", flat=True))
    assert left == {job.pk for job in recent} | {queued_old.pk}
    assert not TestSuite.objects.filter(pk=suite.pk).exists() and not TestCase.objects.exists()
    assert not any(job_output_dir(job).exists() for job in old + old_incomplete)
    assert all(LogStore(job_output_dir(job)).line_count() == 3 for job in recent)


@pytest.mark.django_db
def test_jobs_rm_refuses_unfinished_states_and_bad_ages(lab_settings):
    with pytest.raises(CommandError, match="only finished jobs can be removed"):
        run_rm("--older-than", "30d", "--state", "running")
    with pytest.raises(CommandError, match="unknown JobState"):
        run_rm("--older-than", "30d", "--state", "bogus")
    with pytest.raises(CommandError, match="use a number and one of"):
        run_rm("--older-than", "thirty days")


def test_logs_only_keeps_the_jobs(lab_settings, user, device):
    jobs = make_finished_jobs(user, device.device_type, 20, timedelta(days=40))
    assert "removed the logs of 20 job(s)" in run_rm("--older-than", "30d", "--logs-only")
    assert TestJob.objects.count() == 20
    assert all(LogStore(job_output_dir(job)).line_count() == 0 for job in jobs)


def test_compressed_log_answers_ranges_everywhere(lab_settings, user, device, client):
    (job,) = make_finished_jobs(user, device.device_type, 1, timedelta(days=10))
    store = LogStore(job_output_dir(job))
    lines = log_lines(3) + log_lines(40000)  # ~4 MiB: several compressed members
    store.append(lines[3:])
    TestJob.objects.filter(pk=job.pk).update(log_lines=len(lines), is_public=True)
    plain_size = store.log_path.stat().st_size
    assert plain_size > 3 * CHUNK

    assert compress_log(store.directory) > plain_size // 2
    assert not store.log_path.exists() and store.compressed.exists()
    assert compress_log(store.directory) == 0  # already done
    rng = random.Random(4)
    for start, end in [(0, 1), (0, None), (len(lines) - 5, None), (10000, 10001), (len(lines), None)] + [
        tuple(sorted(rng.sample(range(len(lines) + 1), 2))) for _ in range(20)
    ]:
        assert store.read(start, end) == lines[start:end], (start, end)

    finished, text = proxy().scheduler.jobs.logs(job.pk, 20000, 20003)
    assert finished and text == "\n".join(lines[20000:20003]) + "\n"
    assert proxy().scheduler.jobs.logs_count(job.pk) == len(lines)
    raw = client.get(f"/scheduler/job/{job.pk}/log/raw")
    assert b"".join(raw.streaming_content).decode() == "\n".join(lines) + "\n"
    rest = client.get(f"/api/v0.2/jobs/{job.pk}/logs/?start=39999&end=40001")
    assert rest.content.decode() == "\n".join(lines[39999:40001]) + "\n"


def test_periodic_pass_compresses_then_removes(lab_settings, user, device):
    lab_settings.LOG_COMPRESSION_DAYS = 7
    lab_settings.JOB_RETENTION_DAYS = 90
    ancient = make_finished_jobs(user, device.device_type, 30, timedelta(days=100))
    old = make_finished_jobs(user, device.device_type, 30, timedelta(days=20))
    fresh = make_finished_jobs(user, device.device_type, 5, timedelta(days=1))
    periodic.run_once(pause=0)
    assert set(TestJob.objects.values_list("pk", flat=True)) == {j.pk for j in old + fresh}
    assert all(LogStore(job_output_dir(j)).compressed.exists() for j in old)
    assert all(LogStore(job_output_dir(j)).read() == log_lines(3) for j in old)
    assert not any(LogStore(job_output_dir(j)).compressed.exists() for j in fresh)
    assert not any(job_output_dir(j).exists() for j in ancient)


def test_a_full_disk_cancels_the_job_with_the_reason_and_loses_no_line(lab_settings, user, device):
    job = TestJob.objects.create(submitter=user, requested_device_type=device.device_type, definition="job_name: x")
    job.go_state_scheduled(Device.objects.get(pk=device.pk))
    job.go_state_running()
    hostname = device.worker_host_id
    first = log_lines(5)
    assert decode(on_logs(hostname, {"job_id": job.pk, "start": 0, "lines": first})[0])["count"] == 5
    store = LogStore(job_output_dir(job))
    saved = store.log_path.read_bytes()
    store.log_path.unlink()
    store.log_path.symlink_to("/dev/full")  # every write: ENOSPC

    more = log_lines(8)[5:]
    reply = decode(on_logs(hostname, {"job_id": job.pk, "start": 5, "lines": more})[0])
    assert reply["count"] == 5
    assert "cannot store this job's log from line 6" in reply["error"] and "No space left on device" in reply["error"]
    job.refresh_from_db()
    assert job.state == JobState.CANCELING and "No space left on device" in job.failure_comment
    assert job.log_lines == 5

    store.log_path.unlink()  # space again
    Path(store.log_path).write_bytes(saved)
    reply = decode(on_logs(hostname, {"job_id": job.pk, "start": 5, "lines": more})[0])
    assert reply == {"v": reply["v"], "type": "logs-ok", "job_id": job.pk, "count": 8}
    assert store.read() == first + more
