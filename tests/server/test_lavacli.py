"""lavacli from PyPI, unmodified, against a live server and a lab whose jobs really run.

The web server (``lava-server manage runserver``), lava-master,
lava-scheduler and lava-worker run as processes on the test database; the
board is a local shell (the "fake" device type), so jobs take seconds.
"""

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User

import lava_common
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_server.accounts.models import AuthToken
from tests.server.live_lab import BIN, LiveLab, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

LAVACLI = shutil.which("lavacli", path=str(BIN))
FAKE_BOARD = "{% extends 'fake.jinja2' %}\n{% set connection_command = \"env PS1='fake-board# ' sh -i\" %}\n"

if LAVACLI is None:
    pytest.skip("lavacli is not installed in the venv (pip install lavacli)", allow_module_level=True)


def job_definition(name: str, sleep: int = 2, prompt: str = "fake-board# ") -> str:
    steps = [
        {"name": "hello", "command": "echo hel''lo", "successes": [{"message": "hello"}]},
        {"name": "slow", "command": f"sleep {sleep}; echo wo''ke", "successes": [{"message": "woke"}]},
    ]
    return yaml.safe_dump(
        {
            "job_name": name,
            "device_type": "fake",
            "visibility": "public",
            "timeouts": {"job": {"minutes": 2}, "action": {"seconds": 60}, "connection": {"seconds": 30}},
            "actions": [
                {"boot": {"method": "minimal", "reset": False, "prompts": [prompt]}},
                {"test": {"interactive": [{"name": "shell", "prompts": [prompt], "script": steps}]}},
            ],
        }
    )


class Cli:
    """lavacli with its own configuration folder (XDG_CONFIG_HOME), as a user would run it."""

    def __init__(self, home: Path, uri: str):
        self.home = home
        self.uri = uri
        self.env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "PATH": "/usr/bin:/bin"}

    def __call__(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run([LAVACLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"lavacli {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def identity(self, name: str = "default", username: str | None = None, token: str | None = None) -> None:
        args = ["identities", "add", name, "--uri", self.uri]
        if username:
            args += ["--username", username, "--token", token]
        self(*args)


def start_web(lab: LiveLab) -> str:
    port = free_port()
    lab._start("web", [str(BIN / "lava-server"), "manage", "runserver", "--noreload", f"127.0.0.1:{port}"])
    uri = f"http://127.0.0.1:{port}/RPC2"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v0.2/system/version/", timeout=2):
                return True
        except OSError:
            return False

    wait_for(answers, 60, "web server up", lab, interval=0.2)
    return uri


@pytest.fixture
def live(tmp_path, settings):
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    user = User.objects.create_user("carol")
    token = AuthToken.objects.create(user=user).secret
    lab.uri = start_web(lab)
    lab.cli = Cli(tmp_path / "home", lab.uri)
    lab.token = token
    yield lab
    lab.stop_all()


def test_wrong_token_and_anonymous_submit_fail_at_once(live, tmp_path):
    cli = live.cli
    cli.identity("bad", "carol", "wrong-token")
    started = time.monotonic()
    proc = cli("-i", "bad", "system", "version", check=False)
    assert proc.returncode == 1
    assert "Unable to connect" in proc.stderr and "401" in proc.stderr
    assert time.monotonic() - started < 5, "lavacli retried: the server must not answer 5xx"
    cli.identity("anonymous")
    assert cli("-i", "anonymous", "system", "whoami").stdout.strip() == "<AnonymousUser>"
    definition = tmp_path / "job.yaml"
    definition.write_text(job_definition("anonymous"))
    started = time.monotonic()
    proc = cli("-i", "anonymous", "jobs", "submit", str(definition), check=False)
    assert proc.returncode == 1
    assert "Unable to submit" in proc.stdout + proc.stderr and "401" in proc.stdout + proc.stderr
    assert time.monotonic() - started < 5
    assert not TestJob.objects.exists()


def test_lavacli_commands_against_a_running_lab(live, tmp_path):
    DeviceType.objects.create(name="fake")
    Worker.objects.create(hostname="worker-cli", description="the test worker")
    live.add_dispatcher_config("worker-cli")
    for hostname in ("fake-01", "fake-02"):
        device = Device.objects.create(hostname=hostname, device_type_id="fake", worker_host_id="worker-cli")
        device.go_health(DeviceHealth.GOOD, "test setup")
        device.save()
        live.write_dictionary(hostname, FAKE_BOARD)
    live.start_master()
    live.start_scheduler()
    live.start_worker("worker-cli")
    wait_for(lambda: Worker.objects.get(pk="worker-cli").get_state_display() == "Online", 60, "worker", live)

    cli = live.cli
    cli.identity("default", "carol", live.token)
    assert cli("system", "version").stdout.strip() == lava_common.__version__
    assert cli("system", "whoami").stdout.strip() == "carol"
    assert "* fake (2)" in cli("device-types", "list").stdout
    devices = cli("devices", "list").stdout
    assert "* fake-01 (fake): Idle,Good" in devices and "* fake-02 (fake): Idle,Good" in devices
    shown = cli("devices", "show", "fake-01").stdout
    assert "device-type : fake" in shown and "worker      : worker-cli" in shown and "device-dict : True" in shown
    assert json.loads(cli("devices", "show", "fake-01", "--json").stdout)["hostname"] == "fake-01"
    assert "* worker-cli" in cli("workers", "list").stdout
    worker = cli("workers", "show", "worker-cli").stdout
    assert "state       : Online" in worker and "fake-01, fake-02" in worker and "job limit   : 0" in worker
    assert json.loads(cli("workers", "show", "worker-cli", "--json").stdout)["last_ping"]

    definition = tmp_path / "job.yaml"
    definition.write_text(job_definition("lavacli job", sleep=3))
    job_id = int(cli("jobs", "submit", str(definition)).stdout.strip())
    wait_for(lambda: TestJob.objects.get(pk=job_id).state == JobState.RUNNING, 60, "job running", live)
    # follows the running job until it ends, then exits by itself
    followed = cli("jobs", "logs", str(job_id), "--polling", "1", "--raw", timeout=120).stdout
    records = yaml.safe_load(followed)
    assert any(r["lvl"] == "target" and "woke" in str(r["msg"]) for r in records)
    assert any(r["lvl"] == "results" and r["msg"].get("case") == "job" for r in records)
    assert TestJob.objects.get(pk=job_id).state == JobState.FINISHED
    assert "Failure comment" not in followed  # a Complete job's log ends with its own last record
    window = yaml.safe_load(cli("jobs", "logs", str(job_id), "--raw", "--start", "2", "--end", "5").stdout)
    assert window == records[2:5]
    assert cli("jobs", "wait", str(job_id)).returncode == 0
    show = cli("jobs", "show", str(job_id)).stdout
    assert "state       : Finished" in show and "Health      : Complete" in show
    assert "submitter   : carol" in show and "device-type : fake" in show
    as_json = json.loads(cli("jobs", "show", str(job_id), "--json").stdout)
    assert as_json["state"] == "Finished" and as_json["end_time"].startswith("20")
    assert f"* {job_id}: Finished,Complete [carol] (lavacli job) - fake" in cli("jobs", "list").stdout
    assert json.loads(cli("jobs", "list", "--json").stdout)[0]["id"] == job_id
    assert "job_name: lavacli job" in cli("jobs", "definition", str(job_id)).stdout
    results = cli("results", str(job_id)).stdout
    assert "* lava.job [pass]" in results and "* 0_shell.slow [pass]" in results
    assert cli("results", str(job_id), "0_shell", "hello").stdout.strip() == "pass"
    assert cli("jobs", "validate", str(definition)).returncode == 0

    # a job that never finishes on its own: cancel it and wait for the end
    definition.write_text(job_definition("to cancel", prompt="never-shown-prompt"))
    long_id = int(cli("jobs", "submit", str(definition)).stdout.strip())
    wait_for(lambda: TestJob.objects.get(pk=long_id).state == JobState.RUNNING, 60, "long job running", live)
    cli("jobs", "cancel", str(long_id))
    assert cli("jobs", "wait", str(long_id), "--polling", "1", "--timeout", "60", timeout=90).returncode == 0
    assert "Health      : Canceled" in cli("jobs", "show", str(long_id)).stdout
