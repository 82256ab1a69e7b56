"""A QEMU board through the whole lab: results land as TestCase rows exactly as the board printed them."""

import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User

from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.results.models import TestCase
from tests.server.live_lab import LiveLab, wait_for
from tests.server.test_e2e_jobs import finished

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dispatcher.qemu_jobs import inline, qemu_job  # noqa: E402
from testimages import images, require_qemu  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.qemu]

STEPS = [
    "lava-test-case always-passes --shell true",
    "lava-test-case always-fails --shell false",
    "lava-test-case skipped --result skip",
    "lava-test-case boot-time --result pass --measurement 1.25 --units seconds",
]


def qemu_lab(tmp_path, settings) -> LiveLab:
    require_qemu("arm64")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    DeviceType.objects.create(name="qemu")
    Worker.objects.create(hostname="worker-qemu")
    lab.add_dispatcher_config("worker-qemu")
    device = Device.objects.create(hostname="qemu-arm64-01", device_type_id="qemu", worker_host_id="worker-qemu")
    device.go_health(DeviceHealth.GOOD, "test setup")
    device.save()
    lab.write_dictionary("qemu-arm64-01", "{% extends 'qemu.jinja2' %}\n{% set memory = 256 %}\n")
    lab.start_master()
    lab.start_scheduler()
    lab.start_worker("worker-qemu")
    return lab


def qemu_processes(lab: LiveLab) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # QEMU is started from an argument list: its argv[0] is the full path of the binary
        if Path(cmdline.split(" ", 1)[0]).name.startswith("qemu-system") and str(lab.root) in cmdline:
            found.append(cmdline)
    return found


def test_qemu_arm64_job_through_the_lab(tmp_path, settings):
    arm64 = images().arm64
    lab = qemu_lab(tmp_path, settings)
    user = User.objects.create_user("carol")
    try:
        definition = qemu_job(arm64, [inline("smoke", STEPS)])
        (job,) = submit_job(yaml.safe_dump(definition), user)
        job = wait_for(lambda: finished(job.pk), 400, "QEMU job finished", lab, interval=0.5)
    finally:
        lab.stop_all()
    assert job.state == JobState.FINISHED
    assert job.get_health_display() == "Complete", lab.logs()
    cases = {c.name: c for c in TestCase.objects.filter(suite__job=job, suite__name="0_smoke")}
    assert {name: c.get_result_display() for name, c in cases.items()} == {
        "always-passes": "pass",
        "always-fails": "fail",
        "skipped": "skip",
        "boot-time": "pass",
    }
    assert float(cases["boot-time"].measurement) == 1.25 and cases["boot-time"].units == "seconds"
    lava = TestCase.objects.get(suite__job=job, suite__name="lava", name="0_smoke")
    assert lava.get_result_display() == "pass"
    device = Device.objects.get(pk="qemu-arm64-01")
    assert (device.get_state_display(), device.get_health_display()) == ("Idle", "Good")


def test_a_canceled_qemu_job_is_canceled_and_its_qemu_gone(tmp_path, settings):
    arm64 = images().arm64
    lab = qemu_lab(tmp_path, settings)
    user = User.objects.create_user("dave")
    try:
        # a board that boots but never shows the expected prompt: the job runs until canceled
        definition = qemu_job(arm64, prompts=["this-prompt-never-comes"], minutes=10)
        (job,) = submit_job(yaml.safe_dump(definition), user)
        wait_for(lambda: qemu_processes(lab), 200, "QEMU started", lab, interval=0.2)
        from django.core.management import call_command

        call_command("jobs", "cancel", str(job.pk))
        job = wait_for(lambda: finished(job.pk), 120, "canceled job finished", lab, interval=0.2)
        assert job.get_health_display() == "Canceled"
        assert qemu_processes(lab) == []
    finally:
        lab.stop_all()
