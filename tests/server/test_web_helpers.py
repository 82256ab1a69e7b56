"""Fixtures and builders shared by the web UI tests (no tests here)."""

import pytest
import yaml
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from lava_common.log import format_record
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.models import TestCase, TestSuite
from lava_scheduler.results.models import TestResult as CaseResult

FAKE_BOARD = "{% extends 'fake.jinja2' %}\n{% set connection_command = \"env PS1='fake-board# ' sh -i\" %}\n"


def definition(name: str = "web test", visibility="public", device_type: str = "fake") -> str:
    return yaml.safe_dump(
        {
            "job_name": name,
            "device_type": device_type,
            "visibility": visibility,
            "timeouts": {"job": {"seconds": 60}},
            "actions": [{"boot": {"method": "minimal", "reset": False, "prompts": ["fake-board# "]}}],
        }
    )


def make_job(submitter: User, description: str = "a job", public: bool = True, groups=(), **fields) -> TestJob:
    job = TestJob.objects.create(
        submitter=submitter,
        requested_device_type_id=fields.pop("device_type", "fake"),
        description=description,
        definition=definition(description),
        original_definition=definition(description),
        is_public=public,
        **fields,
    )
    if groups:
        job.viewing_groups.set(groups)
    return job


def add_log(job: TestJob, lines: list[str]) -> None:
    LogStore(job_output_dir(job)).append(lines)
    job.log_lines = LogStore(job_output_dir(job)).line_count()
    TestJob.objects.filter(pk=job.pk).update(log_lines=job.log_lines)


def add_results(job: TestJob, suite: str, cases: dict[str, int]) -> TestSuite:
    test_suite, _ = TestSuite.objects.get_or_create(job=job, name=suite)
    TestCase.objects.bulk_create(
        [TestCase(suite=test_suite, name=name, result=result, metadata={"case": name, "definition": suite},
                  start_log_line=index) for index, (name, result) in enumerate(cases.items())]
    )
    return test_suite


def finish(job: TestJob, health: int, error_type: str = "", error_msg: str = "") -> TestJob:
    now = timezone.now()
    TestJob.objects.filter(pk=job.pk).update(
        state=JobState.FINISHED, health=health, start_time=now, end_time=now, error_type=error_type, error_msg=error_msg
    )
    return TestJob.objects.get(pk=job.pk)


@pytest.fixture
def web_lab(db, settings, tmp_path):
    """A small lab: a fake device type with two devices on one worker, and their dictionaries."""
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    from tests.server.live_lab import TEST_DEVICE_TYPES

    settings.DEVICE_TYPES_PATHS = [TEST_DEVICE_TYPES, *settings.DEVICE_TYPES_PATHS]
    settings.DEVICES_PATH.mkdir()
    DeviceType.objects.create(name="fake")
    worker = Worker.objects.create(hostname="worker-web")
    worker.go_state_online("2026.11")
    worker.save()
    for hostname in ("fake-01", "fake-02"):
        device = Device.objects.create(hostname=hostname, device_type_id="fake", worker_host=worker)
        device.go_health(DeviceHealth.GOOD, "test setup")
        device.save()
        (settings.DEVICES_PATH / f"{hostname}.jinja2").write_text(FAKE_BOARD)
    return worker


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", password="alice-password")


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user("bob", password="bob-password")


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser("admin", password="admin-password")


@pytest.fixture
def team(alice) -> Group:
    group = Group.objects.create(name="team")
    alice.groups.add(group)
    return group


def client_for(user: User | None, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def log_lines(count: int, level: str = "target") -> list[str]:
    return [format_record(level, f"line {n}") for n in range(1, count + 1)]


__all__ = [
    "CaseResult", "JobHealth", "JobState", "add_log", "add_results", "admin_user", "alice", "bob", "client_for",
    "definition", "finish", "log_lines", "make_job", "team", "web_lab",
]
