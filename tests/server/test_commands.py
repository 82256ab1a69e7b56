"""``lava-server manage`` commands: what they do, what they print, how they fail."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_server.accounts.models import AuthToken
from tests.conftest import CORPUS, REPO_ROOT

QEMU_DICT = "{% extends 'qemu.jinja2' %}\n{% set memory = 1024 %}\n"


def manage(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def lab(db, settings, tmp_path):
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    manage("device-types", "add", "qemu", "--alias", "kvm")
    manage("workers", "add", "worker-1", "--job-limit", "2")
    manage("devices", "add", "qemu-01", "--device-type", "qemu", "--worker", "worker-1")
    return tmp_path


def test_device_types(lab, capsys):
    assert DeviceType.objects.get(name="qemu").aliases.get().name == "kvm"
    with pytest.raises(CommandError, match="no template nosuch.jinja2"):
        manage("device-types", "add", "nosuch")
    with pytest.raises(CommandError, match="already exists"):
        manage("device-types", "add", "qemu")
    manage("device-types", "update", "qemu", "--health-frequency", "5", "--health-denominator", "jobs")
    call_command("device-types", "list", "--json")
    listed = json.loads(capsys.readouterr().out)
    assert listed == [
        {"name": "qemu", "devices": 1, "health_frequency": "5 jobs", "health_check": "enabled", "visible": "yes"}
    ]


def test_workers(lab, capsys, tmp_path):
    call_command("workers", "list", "--csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["hostname"] == "worker-1" and rows[0]["state"] == "Offline" and rows[0]["devices"] == "1"
    assert "public key" in manage("lava-keys", "worker-1", str(tmp_path / "keys"))
    with pytest.raises(CommandError, match="already exists"):
        manage("lava-keys", "worker-1", str(tmp_path / "keys"))
    key = tmp_path / "keys" / "worker-1.key"
    manage("workers", "update", "worker-1", "--public-key", str(key), "--health", "maintenance")
    worker = Worker.objects.get()
    assert len(worker.public_key) == 40 and worker.public_key in key.read_text()
    assert worker.get_health_display() == "Maintenance"
    key.write_text("short")
    with pytest.raises(CommandError, match="--public-key: .*not a key file"):
        manage("workers", "add", "worker-2", "--public-key", str(key))
    assert not Worker.objects.filter(hostname="worker-2").exists()


def test_devices_dictionary_and_check(lab, capsys, tmp_path):
    with pytest.raises(CommandError, match="1 of 1 device"):
        manage("devices", "check", "qemu-01")
    source = tmp_path / "qemu-01.jinja2"
    source.write_text("{% extends 'beaglebone-black.jinja2' %}\n")
    with pytest.raises(CommandError, match="extends 'beaglebone-black' but 'qemu-01' is a 'qemu'"):
        manage("devices", "dict", "set", "qemu-01", str(source))
    source.write_text(QEMU_DICT)
    manage("devices", "dict", "set", "qemu-01", str(source))
    assert manage("devices", "dict", "get", "qemu-01") == QEMU_DICT
    rendered = manage("devices", "dict", "get", "qemu-01", "--render")
    assert "-m 1024" in rendered or "1024" in rendered
    assert "qemu-01: valid" in manage("devices", "check", "--all")


def test_device_update_health_is_recorded(lab):
    manage("devices", "update", "qemu-01", "--health", "unknown", "--reason", "cabled")
    device = Device.objects.get()
    assert device.health == DeviceHealth.UNKNOWN
    assert str(device.transitions.first()) == "Maintenance → Unknown (cabled)"
    manage("devices", "update", "qemu-01", "--health", "retired")
    manage("devices", "update", "qemu-01", "--health", "good")  # an admin may bring it back
    assert Device.objects.get().health == DeviceHealth.GOOD
    with pytest.raises(CommandError, match="no device 'nope'"):
        manage("devices", "update", "nope", "--health", "good")


def test_tags_aliases_users_tokens(lab, capsys):
    manage("tags", "add", "usb")
    with pytest.raises(CommandError, match="already exists"):
        manage("tags", "add", "usb")
    manage("devices", "update", "qemu-01", "--tags", "usb")
    assert [t.name for t in Device.objects.get().tags.all()] == ["usb"]
    with pytest.raises(CommandError, match="already a device type"):
        manage("aliases", "add", "qemu", "qemu")
    out = manage("users", "add", "bob")
    assert "password: " in out
    secret = manage("tokens", "add", "--user", "bob", "--description", "ci").strip()
    assert AuthToken.authenticate("bob", secret).username == "bob"
    assert AuthToken.authenticate("bob", "wrong") is None
    call_command("tokens", "list", "--json")
    tokens = json.loads(capsys.readouterr().out)
    assert tokens[0]["user"] == "bob" and tokens[0]["description"] == "ci"
    manage("tokens", "rm", str(tokens[0]["id"]))
    assert AuthToken.objects.count() == 0


def test_jobs_submit_list_cancel_fail(lab, tmp_path, capsys):
    manage("users", "add", "bob")
    job = tmp_path / "job.yaml"
    job.write_text(
        "job_name: smoke\ndevice_type: kvm\nvisibility: public\ntimeouts: {job: {minutes: 5}}\n"
        "actions:\n- boot: {method: qemu, media: tmpfs, prompts: ['# ']}\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("job_name: smoke\n")
    first = int(manage("jobs", "submit", "--submitter", "bob", str(job)))
    with pytest.raises(CommandError, match="1 of 2 job"):
        manage("jobs", "submit", "--submitter", "bob", str(job), str(bad))
    assert TestJob.objects.count() == 2
    call_command("jobs", "list", "--json", "--state", "submitted")
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == [str(first + 1), str(first)]
    assert "Finished" in manage("jobs", "cancel", str(first))
    manage("jobs", "fail", str(first + 1))
    assert sorted(TestJob.objects.values_list("health", flat=True)) == [2, 3]
    with pytest.raises(CommandError, match="no job 999999"):
        manage("jobs", "cancel", "999999")
    again = int(manage("jobs", "resubmit", str(first)))
    assert TestJob.objects.get(pk=again).metadata["job.original"].endswith(f"/scheduler/job/{first}")


def test_json_schema_is_published():
    schema = json.loads(manage("jobs", "json-schema"))
    assert "job_name" in schema["properties"]


def run_manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "lava-server"), "manage", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=dict(os.environ),
        timeout=120,
    )


@pytest.mark.skipif(not CORPUS.exists(), reason="corpus not available")
def test_every_valid_corpus_job_validates_through_the_real_command():
    verdicts = json.loads((CORPUS / "jobs" / "verdicts.json").read_text())
    valid = [str(CORPUS / name) for name, v in verdicts.items() if v["reference_verdict"] == "valid"]
    assert len(valid) > 150
    result = run_manage("jobs", "validate", *valid)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count(": valid") == len(valid)


def test_validate_command_refuses_with_a_path_and_exit_code(tmp_path):
    job = tmp_path / "broken.yaml"
    job.write_text("job_name: x\nvisibility: public\ntimeouts: {job: {minutes: 1}}\nactions:\n- boot: {method: magic}\n")
    result = run_manage("jobs", "validate", str(job))
    assert result.returncode == 1
    assert "actions[0].boot.method" in result.stdout
    assert "Traceback" not in result.stderr
