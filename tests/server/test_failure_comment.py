"""A finished job's `failure_comment`: one sentence when something went wrong, nothing otherwise."""

import pytest

from lava_scheduler.jobs.failure import STDERR_FILE, failure_sentence
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth
from lava_scheduler.logs.store import job_output_dir
from lava_scheduler.master.handlers import on_end

STDERR_TAIL = 'Traceback (most recent call last):\n  File "x.py"\nRuntimeError: boom'


def test_the_sentence_is_one_short_line():
    assert failure_sentence("Infrastructure", "no prompt\nmore detail") == "Infrastructure error: no prompt"
    assert failure_sentence("Canceled", "canceled by bob") == "canceled by bob"
    assert failure_sentence("", "") == "the job failed without an error message"
    long = failure_sentence("Job", "x" * 1000)
    assert len(long) == 300 and long.endswith("…")


@pytest.fixture
def running_job(user, device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = str(tmp_path / "job-output")
    job = TestJob.objects.create(submitter=user, requested_device_type=device.device_type, definition="job_name: x")
    job.go_state_scheduled(device)
    job.go_state_running()
    return job


def end_message(job: TestJob, result: str, error_type: str = "", error_msg: str = "") -> dict:
    return {
        "job_id": job.pk, "result": result, "error_type": error_type, "error_msg": error_msg,
        "errors": STDERR_TAIL, "description": "", "log_lines": 0,
    }


def test_a_complete_job_has_no_comment_and_keeps_stderr_beside_its_log(running_job, worker):
    on_end(worker.hostname, end_message(running_job, "pass"))
    job = TestJob.objects.get(pk=running_job.pk)
    assert job.health == JobHealth.COMPLETE and job.failure_comment == ""
    assert (job_output_dir(job) / STDERR_FILE).read_text().strip() == STDERR_TAIL


def test_an_incomplete_job_says_what_failed(running_job, worker):
    on_end(worker.hostname, end_message(running_job, "fail", "Infrastructure", "lava-run could not power the board on"))
    job = TestJob.objects.get(pk=running_job.pk)
    assert job.health == JobHealth.INCOMPLETE
    assert job.failure_comment == "Infrastructure error: lava-run could not power the board on"
    assert "Traceback" not in job.failure_comment
