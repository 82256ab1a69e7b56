"""lavacli from PyPI, unmodified, against a live server and a lab whose jobs really run.

The web server (``lava-server manage runserver``), lava-master,
lava-scheduler and lava-worker run as processes on the test database; the
board is a local shell (the "fake" device type), so jobs take seconds.
"""

import json
import subprocess
import threading
import time

import pytest
import yaml
from django.contrib.auth.models import User

import lava_common
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_server.accounts.models import AuthToken
from tests.server.live_lab import LAVACLI, Cli, LiveLab, start_web, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

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


def lab_of_two(live) -> None:
    """Device type ``fake``, worker ``worker-cli`` and devices fake-01/02 (Good), without processes."""
    DeviceType.objects.create(name="fake")
    Worker.objects.create(hostname="worker-cli", description="the test worker")
    live.add_dispatcher_config("worker-cli")
    for hostname in ("fake-01", "fake-02"):
        device = Device.objects.create(hostname=hostname, device_type_id="fake", worker_host_id="worker-cli")
        device.go_health(DeviceHealth.GOOD, "test setup")
        device.save()
        live.write_dictionary(hostname, FAKE_BOARD)


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
    lab_of_two(live)
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
    targets = cli("jobs", "logs", str(job_id), "--filters", "target").stdout
    assert "woke" in targets and "start:" not in targets
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
    # a job that did not complete: its log ends with one sentence saying why
    last = yaml.safe_load(cli("jobs", "logs", str(long_id), "--raw").stdout)[-1]
    assert last["msg"] == "[lavacli] Failure comment: canceled by carol"


# ---- every command group, as a lab admin scripts it ----------------------------------------------


@pytest.fixture
def admin(live):
    """``live`` with a superuser ``admin`` as lavacli's default identity; no server traceback at the end."""
    user = User.objects.create_superuser("admin", "admin@example.com", "unused")
    live.cli.identity("default", "admin", AuthToken.objects.create(user=user).secret)
    yield live.cli
    server_log = (live.root / "web.log").read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-4000:]


def fails(proc: subprocess.CompletedProcess, *words: str) -> None:
    """lavacli's normal error: non-zero exit, the server's message, no client traceback."""
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "Traceback" not in output, output
    for word in words:
        assert word in output, output


def test_system_group(live, admin):
    lab_of_two(live)
    assert admin("system", "api").stdout.strip() == "2"
    assert admin("system", "whoami").stdout.strip() == "admin"
    methods = admin("system", "methods", "list").stdout.split()
    for name in ("auth.users.list", "system.getCapabilities", "scheduler.put_into_maintenance_mode",
                 "results.make_custom_query", "scheduler.remote_artifact_tokens.add"):
        assert name in methods
    assert "Rows of ``entity``" in admin("system", "methods", "help", "results.make_custom_query").stdout
    assert admin("system", "methods", "signature", "scheduler.workers.get_config").stdout.strip() == "[['undef', 'undef']]"
    # the whole lab into maintenance and back
    maintenance = admin("system", "maintenance").stdout
    assert "* worker-cli" in maintenance and "Wait for devices:" in maintenance and "* fake-01" in maintenance
    assert Worker.objects.get(pk="worker-cli").get_health_display() == "Maintenance"
    assert "* worker-cli" in admin("system", "active").stdout
    assert Worker.objects.get(pk="worker-cli").get_health_display() == "Active"
    fails(admin("system", "methods", "help", "no.such.method", check=False), "Unknown method")


def test_aliases_and_tags_groups(live, admin):
    lab_of_two(live)
    admin("aliases", "add", "fake-alias", "fake")
    assert "* fake-alias" in admin("aliases", "list").stdout
    assert "device-type: fake" in admin("aliases", "show", "fake-alias").stdout
    fails(admin("aliases", "add", "other", "no-such-type", check=False), "no-such-type")
    admin("aliases", "delete", "fake-alias")
    fails(admin("aliases", "show", "fake-alias", check=False), "fake-alias")

    admin("tags", "add", "usb", "--description", "has a USB port")
    assert "* usb (has a USB port)" in admin("tags", "list").stdout
    assert "name       : usb" in admin("tags", "show", "usb").stdout
    fails(admin("tags", "show", "nope", check=False), "nope")
    admin("tags", "delete", "usb")
    assert "usb" not in admin("tags", "list").stdout


def test_device_types_group(live, admin, tmp_path):
    lab_of_two(live)
    admin("device-types", "add", "beagle", "--description", "BeagleBone", "--health-frequency", "12",
          "--health-denominator", "jobs")
    assert "* beagle (0)" in admin("device-types", "list").stdout
    assert "description     : BeagleBone" in admin("device-types", "show", "beagle").stdout
    as_json = json.loads(admin("device-types", "show", "beagle", "--json").stdout)
    assert (as_json["health_frequency"], as_json["health_denominator"]) == (12, "jobs")
    admin("device-types", "update", "beagle", "--description", "BeagleBone Black", "--health-disabled")
    as_json = json.loads(admin("device-types", "show", "beagle", "--json").stdout)
    assert as_json["description"] == "BeagleBone Black" and as_json["health_disabled"] is True
    # template and health check: set from a file, read back, delete
    template = tmp_path / "beagle.jinja2"
    template.write_text("{% extends 'base.jinja2' %}\n{% set console_device = 'ttyS0' %}\n")
    admin("device-types", "template", "set", "beagle", str(template))
    assert admin("device-types", "template", "get", "beagle").stdout.strip() == template.read_text().strip()
    template.write_text("{% extends 'base.jinja2' %}\n{% if %}\n")
    fails(admin("device-types", "template", "set", "beagle", str(template), check=False), "line 2")
    health_check = tmp_path / "hc.yaml"
    health_check.write_text(job_definition("health check").replace("device_type: fake", "device_type: beagle"))
    admin("device-types", "health-check", "set", "beagle", str(health_check))
    assert "job_name: health check" in admin("device-types", "health-check", "get", "beagle").stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("job_name: [unclosed\n")
    fails(admin("device-types", "health-check", "set", "beagle", str(broken), check=False))
    # aliases and group permissions of the type
    admin("device-types", "aliases", "add", "beagle", "bbb")
    assert "* bbb" in admin("device-types", "aliases", "list", "beagle").stdout
    admin("device-types", "aliases", "delete", "beagle", "bbb")
    admin("groups", "add", "team-a")
    admin("device-types", "perms", "add", "beagle", "team-a", "submit_to_devicetype")
    assert "* team-a submit_to_devicetype" in admin("device-types", "perms", "list", "beagle").stdout
    fails(admin("device-types", "perms", "add", "beagle", "team-a", "fly", check=False), "Invalid permission")
    admin("device-types", "perms", "delete", "beagle", "team-a", "submit_to_devicetype")
    assert "team-a" not in admin("device-types", "perms", "list", "beagle").stdout
    assert "fake-01" in admin("device-types", "devices", "fake").stdout
    fails(admin("device-types", "show", "no-such-type", check=False), "no-such-type")


def test_devices_group(live, admin, tmp_path):
    lab_of_two(live)
    admin("devices", "add", "fake-03", "--type", "fake", "--worker", "worker-cli", "--description", "third")
    assert "* fake-03 (fake)" in admin("devices", "list").stdout
    dictionary = tmp_path / "fake-03.jinja2"
    dictionary.write_text(FAKE_BOARD)
    admin("devices", "dict", "set", "fake-03", str(dictionary))
    assert admin("devices", "dict", "get", "fake-03").stdout.strip() == FAKE_BOARD.strip()
    rendered = yaml.safe_load(admin("devices", "dict", "get", "fake-03", "--render").stdout)
    assert isinstance(rendered, dict) and rendered
    wrong = tmp_path / "wrong.jinja2"
    wrong.write_text("{% extends 'qemu.jinja2' %}\n")
    fails(admin("devices", "dict", "set", "fake-03", str(wrong), check=False), "extends")
    admin("devices", "tags", "add", "fake-03", "usb")
    assert "* usb" in admin("devices", "tags", "list", "fake-03").stdout
    admin("devices", "tags", "delete", "fake-03", "usb")
    admin("groups", "add", "team-b")
    admin("devices", "perms", "add", "fake-03", "team-b", "change_device")
    assert "* team-b change_device" in admin("devices", "perms", "list", "fake-03").stdout
    admin("devices", "perms", "delete", "fake-03", "team-b", "change_device")
    admin("devices", "update", "fake-03", "--health", "GOOD", "--description", "third board")
    shown = admin("devices", "show", "fake-03").stdout
    assert "health      : Good" in shown and "description : third board" in shown
    admin("devices", "maintenance", "fake-03")
    assert Device.objects.get(pk="fake-03").get_health_display() == "Maintenance"
    fails(admin("devices", "show", "fake-04", check=False), "fake-04")
    fails(admin("devices", "dict", "get", "no-such-device", check=False), "no-such-device")


def test_workers_group(live, admin, tmp_path):
    lab_of_two(live)
    admin("workers", "add", "worker-2", "--description", "second")
    assert "* worker-2" in admin("workers", "list").stdout
    config = tmp_path / "dispatcher.yaml"
    config.write_text("dispatcher_ip: 192.0.2.1\n")
    admin("workers", "config", "set", "worker-2", str(config))
    assert admin("workers", "config", "get", "worker-2").stdout.strip() == "dispatcher_ip: 192.0.2.1"
    env = tmp_path / "env.yaml"
    env.write_text("overrides:\n  LANG: C\n")
    admin("workers", "env", "set", "worker-2", str(env))
    assert "LANG: C" in admin("workers", "env", "get", "worker-2").stdout
    admin("workers", "env-dut", "set", "worker-2", str(env))
    assert "LANG: C" in admin("workers", "env-dut", "get", "worker-2").stdout
    assert json.loads(admin("workers", "show", "worker-2", "--json").stdout)["default_env"] is False
    not_a_mapping = tmp_path / "list.yaml"
    not_a_mapping.write_text("- a\n- b\n")
    fails(admin("workers", "config", "set", "worker-2", str(not_a_mapping), check=False), "expected a YAML mapping")
    admin("workers", "update", "worker-2", "--description", "second host", "--job-limit", "2")
    assert "job limit   : 2" in admin("workers", "show", "worker-2").stdout
    admin("workers", "maintenance", "worker-cli")
    assert Worker.objects.get(pk="worker-cli").get_health_display() == "Maintenance"
    fails(admin("workers", "config", "get", "no-such-worker", check=False), "no-such-worker")


def test_users_and_groups_groups(live, admin):
    admin("groups", "add", "lab-admins")
    admin("groups", "perms", "add", "lab-admins", "lab", "device", "change_device")
    assert "* lab.device.change_device" in admin("groups", "perms", "list", "lab-admins").stdout
    assert "* lab-admins" in admin("groups", "list").stdout
    admin("users", "add", "dave", "--first-name", "Dave", "--last-name", "Lab", "--email", "dave@example.com",
          "--staff")
    admin("users", "groups", "add", "dave", "lab-admins")
    admin("users", "perms", "add", "dave", "lab", "worker", "change_worker")
    listed = admin("users", "list").stdout
    assert "* dave (Dave Lab) [staff]" in listed and "* admin [staff] [superuser]" in listed
    shown = admin("users", "show", "dave").stdout
    assert "groups     : lab-admins" in shown and "permissions: lab.worker.change_worker" in shown
    assert json.loads(admin("users", "show", "dave", "--json").stdout)["date_joined"].startswith("20")
    assert "* lab-admins" in admin("users", "groups", "list", "dave").stdout
    assert "* lab.worker.change_worker" in admin("users", "perms", "list", "dave").stdout
    group = admin("groups", "show", "lab-admins").stdout
    assert "users      : dave" in group and "permissions: lab.device.change_device" in group
    admin("users", "update", "dave", "--no-active", "--no-staff")
    assert "* dave (Dave Lab) [INACTIVE]" in admin("users", "list").stdout
    fails(admin("users", "add", "dave", check=False), "already exists")
    fails(admin("users", "perms", "add", "dave", "lab", "worker", "fly", check=False), "lab.worker.fly")
    admin("users", "perms", "delete", "dave", "lab", "worker", "change_worker")
    admin("users", "groups", "delete", "dave", "lab-admins")
    admin("groups", "perms", "delete", "lab-admins", "lab", "device", "change_device")
    admin("users", "delete", "dave")
    admin("groups", "delete", "lab-admins")
    fails(admin("users", "show", "dave", check=False), "dave")
    # a user who is not an admin is refused, with lavacli's normal error
    live.cli.identity("carol", "carol", live.token)
    fails(live.cli("-i", "carol", "users", "list", check=False), "Permission denied")


def test_tokens_group(live, admin):
    admin("tokens", "add", "gitlab", "--token", "s3cr3t-value")
    admin("tokens", "add", "artifacts", "--token", "another")
    assert "* gitlab: s3cr3t-value" in admin("tokens", "list").stdout
    assert admin("tokens", "show", "gitlab").stdout.strip() == "s3cr3t-value"
    assert {t["name"] for t in json.loads(admin("tokens", "list", "--json").stdout)} == {"gitlab", "artifacts"}
    fails(admin("tokens", "add", "gitlab", "--token", "x", check=False), "already exists")
    admin("tokens", "delete", "gitlab")
    fails(admin("tokens", "show", "gitlab", check=False), "gitlab")
    # another user's tokens are theirs only
    live.cli.identity("carol", "carol", live.token)
    assert "artifacts" not in live.cli("-i", "carol", "tokens", "list").stdout


def test_lab_group_import_then_apply_changes_nothing(live, admin, tmp_path):
    lab_of_two(live)
    admin("groups", "add", "team-a")
    admin("groups", "perms", "add", "team-a", "lab", "device", "view_device")
    admin("devices", "perms", "add", "fake-01", "team-a", "view_device")
    exported = tmp_path / "lab.yaml"
    imported = admin("lab", "import", str(exported)).stdout
    assert "* fake-01" in imported and "* worker-cli" in imported and "* team-a" in imported
    data = yaml.safe_load(exported.read_text())
    assert "fake-01" in str(data) and "team-a" in str(data) and "view_device" in str(data)
    assert "Config valid." in admin("lab", "validate", str(exported)).stdout
    admin("lab", "apply", "--dry-run", str(exported))
    # a change in the file reaches the server
    text = exported.read_text().replace("the test worker", "the renamed worker")
    exported.write_text(text)
    admin("lab", "apply", str(exported))
    assert Worker.objects.get(pk="worker-cli").description == "the renamed worker"


def test_jobs_queue_resubmit_cancel_and_bad_input(live, admin, tmp_path):
    lab_of_two(live)  # no worker process: jobs stay queued
    definition = tmp_path / "job.yaml"
    definition.write_text(job_definition("queued"))
    first = int(admin("jobs", "submit", str(definition)).stdout)
    assert f"* {first}: admin (queued) - fake" in admin("jobs", "queue").stdout
    assert admin("jobs", "queue", "no-such-type").stdout.strip().endswith("to 25):")
    again = int(admin("jobs", "resubmit", str(first)).stdout)
    assert again == first + 1
    admin("jobs", "cancel", str(first), str(again))
    assert "Health      : Canceled" in admin("jobs", "show", str(again)).stdout
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text(job_definition("bad").replace("device_type: fake", "device_type: 42\nbogus_key: 1"))
    fails(admin("jobs", "validate", str(malformed), check=False))
    fails(admin("jobs", "submit", str(malformed), check=False), "Unable to submit")
    fails(admin("jobs", "show", "999999", check=False), "999999")
    fails(admin("jobs", "logs", "not-a-number", "--no-follow", check=False), "Invalid job id")


def test_events_and_utils_groups(live, admin, tmp_path):
    # /ws/ is lava-publisher's (test_events.py); this lab runs the web server alone: lavacli retries
    # for ever, printing the server's clean 404 each time
    with subprocess.Popen([LAVACLI, "events", "listen"], env=admin.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as listener:
        guard = threading.Timer(60, listener.terminate)  # never hang the suite on a silent lavacli
        guard.start()
        try:
            first_error = listener.stderr.readline()  # lavacli retries each second: a line comes quickly
        finally:
            guard.cancel()
            listener.terminate()
    assert first_error.startswith("Connection issue: 404"), first_error
    # utils work on local files only
    log = tmp_path / "output.yaml"
    log.write_text('- {"dt": "2026-01-01T00:00:00.000000", "lvl": "info", "msg": "hello from the log"}\n'
                   '- {"dt": "2026-01-01T00:00:01.000000", "lvl": "target", "msg": "board says hi"}\n')
    printed = admin("utils", "logs", "print", str(log), "--filters", "target").stdout
    assert "board says hi" in printed and "hello from the log" not in printed


def test_group_permissions_set_with_lavacli_are_enforced(live, admin, tmp_path):
    lab_of_two(live)
    admin("groups", "add", "team-a")
    User.objects.create_user("dora")
    admin("users", "groups", "add", "dora", "team-a")
    admin("device-types", "perms", "add", "fake", "team-a", "submit_to_devicetype")
    admin("devices", "perms", "add", "fake-02", "team-a", "view_device")
    live.cli.identity("carol", "carol", live.token)
    live.cli.identity("dora", "dora", AuthToken.objects.create(user=User.objects.get(username="dora")).secret)
    definition = tmp_path / "job.yaml"
    definition.write_text(job_definition("team-a only"))
    # carol is not in team-a: refused at submission, with the reason; fake-02 is not even listed for her
    fails(live.cli("-i", "carol", "jobs", "submit", str(definition), check=False),
          "you may not submit to any fake device", "team-a")
    assert "fake-02" not in live.cli("-i", "carol", "devices", "list").stdout
    fails(live.cli("-i", "carol", "devices", "show", "fake-02", check=False), "fake-02")
    assert int(live.cli("-i", "dora", "jobs", "submit", str(definition)).stdout.strip())
    assert "fake-02" in live.cli("-i", "dora", "devices", "list").stdout
    # the rows gone, the lab is open again
    admin("device-types", "perms", "delete", "fake", "team-a", "submit_to_devicetype")
    assert int(live.cli("-i", "carol", "jobs", "submit", str(definition)).stdout.strip())
