"""Who reads what, through every door: the visibility matrix.

Five callers (anonymous, another user, a member of the job's group, the
submitter, an admin) against every reader of jobs, definitions, logs,
results, exports, lab configuration and device pages, through the web UI,
REST and XML-RPC alike, with ``LOGIN_REQUIRED`` off and on. Then the
secrets of a definition (masked for all but the submitter and admins), the
lab configuration (for who may change the lab), the state changes (POST
only, CSRF for browser sessions) and, with the real lavacli against a live
server, a masked definition as a non-owner reads it.
"""

import re
import xmlrpc.client
from dataclasses import dataclass

import pytest
import yaml
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.jobs.submission import SubmissionError, submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.master.jobfiles import archive
from lava_scheduler.results.models import TestCase, TestSuite
from lava_server.accounts.models import AuthToken
from lava_server.rest.urls import router
from lava_server.xmlrpc.registry import METHODS
from tests.server import conftest as server_fixtures
from tests.server.live_lab import LAVACLI, Cli, LiveLab, start_web
from tests.server.test_xmlrpc import basic, fault_code, proxy

pytestmark = pytest.mark.django_db

device, qemu_type, worker = server_fixtures.device, server_fixtures.qemu_type, server_fixtures.worker

ROLES = ("anonymous", "other", "member", "submitter", "admin")
KINDS = ("public", "personal", "group")
SEES = {
    "public": set(ROLES),
    "personal": {"submitter", "admin"},
    "group": {"member", "submitter", "admin"},
}
# what only the submitter and admins may read: the public job has a callback token and download
# headers (a public job cannot have secrets), the group job has all three
SECRET_VALUE, CALLBACK_TOKEN, HEADER_TOKEN = "s3cr3t-value", "callback-t0ken", "header-t0ken"
SECRETS = {"public": (CALLBACK_TOKEN, HEADER_TOKEN), "group": (SECRET_VALUE, CALLBACK_TOKEN, HEADER_TOKEN)}
POWER_SECRET = "pdu-s3cret"
WORKER_SECRET = "worker-s3cret"
DICTIONARY = (
    "{% extends 'qemu.jinja2' %}\n{% set arch = 'amd64' %}\n"
    f"{{% set power_on_command = 'pduclient --password {POWER_SECRET} --port 1' %}}\n"
)
MASK = "[MASKED]"


def definition(kind: str) -> str:
    job = {
        "job_name": f"matrix {kind} job",
        "device_type": "qemu",
        "visibility": {"group": ["team"]} if kind == "group" else kind,
        "timeouts": {"job": {"minutes": 5}},
        "metadata": {"kind": f"meta-{kind}"},
        "actions": [
            {"deploy": {"to": "tmpfs", "images": {"kernel": {
                "url": "http://example.com/bzImage", "headers": {"PRIVATE-TOKEN": HEADER_TOKEN}}}}},
            {"boot": {"method": "minimal", "prompts": ["# "]}},
        ],
    }
    if kind in SECRETS:
        job["notify"] = {"criteria": {"status": "finished"},
                         "callbacks": [{"url": "http://example.com/cb", "token": CALLBACK_TOKEN, "method": "POST"}]}
    if kind == "group":
        job["secrets"] = {"API_KEY": SECRET_VALUE}
    return yaml.safe_dump(job, sort_keys=False)


def api_token(user: User) -> str:
    """A fresh API token of ``user``, as a client would hold it."""
    return AuthToken.objects.create(user=user).secret


@dataclass
class Lab:
    users: dict[str, User | None]
    tokens: dict[str, str]
    jobs: dict[str, TestJob]

    def web(self, role: str, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client

    def rest(self, role: str) -> Client:
        if self.users[role] is None:
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Token {self.tokens[role]}")

    def rpc(self, role: str) -> xmlrpc.client.ServerProxy:
        if self.users[role] is None:
            return proxy()
        return proxy(basic(self.users[role].username, self.tokens[role]))


def run_job(job: TestJob, board, finish: bool) -> None:
    """Take the job through the states a worker would, with a log, results and its archived configuration."""
    kind = job.description.split()[1]
    job.go_state_scheduled(board)
    job.go_state_running()
    archive(job, {"definition": job.definition, "device": f"power_on_command: pduclient --password {POWER_SECRET}\n",
                  "dispatcher": f"secret: {WORKER_SECRET}\n", "env": "", "env_dut": ""})
    LogStore(job_output_dir(job)).append([f'- {{"dt": "2026-01-01T00:00:00", "lvl": "info", "msg": "log of {kind}"}}'])
    suite = TestSuite.objects.create(job=job, name=f"suite-{kind}")
    TestCase.objects.create(suite=suite, name=f"case-{kind}", result=0, metadata={"case": f"case-{kind}"})
    if finish:
        job.go_state_finished(JobHealth.COMPLETE)


@pytest.fixture
def lab(device, settings, tmp_path) -> Lab:
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    settings.DISPATCHER_D = tmp_path / "dispatcher.d"
    settings.DEVICE_TYPES_PATHS = [tmp_path / "device-types", *settings.DEVICE_TYPES_PATHS]
    settings.DEVICES_PATH.mkdir()
    (settings.DEVICES_PATH / "qemu-01.jinja2").write_text(DICTIONARY)
    for name in ("dispatcher.yaml", "env.yaml", "env-dut.yaml"):
        (settings.DISPATCHER_D / "worker-1").mkdir(parents=True, exist_ok=True)
        (settings.DISPATCHER_D / "worker-1" / name).write_text(f"secret: {WORKER_SECRET}\n")
    team = Group.objects.create(name="team")
    users: dict[str, User | None] = {
        "anonymous": None,
        "other": User.objects.create_user("bob"),
        "member": User.objects.create_user("carol"),
        "submitter": User.objects.create_user("alice"),
        "admin": User.objects.create_superuser("admin"),
    }
    users["member"].groups.add(team)
    users["submitter"].groups.add(team)
    jobs = {kind: submit_job(definition(kind), users["submitter"])[0] for kind in KINDS}
    for kind in KINDS:
        # the group job stays Running: it is the device's current job
        run_job(TestJob.objects.get(pk=jobs[kind].pk), Device.objects.get(pk=device.pk), finish=kind != "group")
    jobs = {kind: TestJob.objects.get(pk=job.pk) for kind, job in jobs.items()}
    tokens = {role: api_token(user) for role, user in users.items() if user is not None}
    return Lab(users, tokens, jobs)


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def outcome(role: str, kind: str, login_required: bool) -> str:
    if login_required and role == "anonymous":
        return "refused"
    return "visible" if role in SEES[kind] else "hidden"


@pytest.fixture(params=[False, True], ids=["open", "login-required"])
def login_required(request, settings) -> bool:
    settings.LAVA = dict(settings.LAVA, LOGIN_REQUIRED=request.param)
    return request.param


# the readers of one job: (address, what the answer shows when the job is visible)
WEB_READERS = [
    ("/scheduler/job/{id}", "matrix {kind} job"),
    ("/scheduler/job/{id}/definition", "matrix {kind} job"),
    ("/scheduler/job/{id}/log", "log of {kind}"),
    ("/scheduler/job/{id}/log/raw", "log of {kind}"),
    ("/results/{id}", "suite-{kind}"),
    ("/results/{id}/csv", "case-{kind}"),
    ("/results/{id}/yaml", "case-{kind}"),
    ("/results/{id}/junit", "case-{kind}"),
    ("/results/{id}/suite-{kind}", "case-{kind}"),
    ("/results/{id}/suite-{kind}/csv", "case-{kind}"),
    ("/results/{id}/suite-{kind}/yaml", "case-{kind}"),
    ("/results/{id}/suite-{kind}/case-{kind}", "case-{kind}"),
]
# pages listing jobs: the job shows there only to who may see it
WEB_LISTS = ["/", "/scheduler/jobs", "/scheduler/device/qemu-01", "/scheduler/device_type/qemu",
             "/scheduler/worker/worker-1", "/scheduler/devices"]
REST_READERS = [
    ("/api/v0.2/jobs/{id}/", "matrix {kind} job"),
    ("/api/v0.2/jobs/{id}/logs/", "log of {kind}"),
    ("/api/v0.2/jobs/{id}/csv/", "case-{kind}"),
    ("/api/v0.2/jobs/{id}/yaml/", "case-{kind}"),
    ("/api/v0.2/jobs/{id}/junit/", "case-{kind}"),
    ("/api/v0.2/jobs/{id}/metadata/", "meta-{kind}"),
    ("/api/v0.2/jobs/{id}/suites/", "suite-{kind}"),
    ("/api/v0.2/jobs/{id}/tests/", "case-{kind}"),
]
RPC_READERS = [
    ("scheduler.jobs.show", (), "matrix {kind} job"),
    ("scheduler.jobs.definition", (), "matrix {kind} job"),
    ("scheduler.jobs.logs", (0, None), "log of {kind}"),
    ("scheduler.jobs.logs_count", (), None),
    ("scheduler.job_state", (), None),
    ("scheduler.job_health", (), None),
    ("results.get_testjob_results_yaml", (), "case-{kind}"),
    ("results.get_testjob_results_csv", (), "case-{kind}"),
    ("results.get_testjob_suites_list_yaml", (), "suite-{kind}"),
    ("results.get_testjob_suites_list_csv", (), "suite-{kind}"),
    ("results.get_testjob_metadata", (), "meta-{kind}"),
    ("results.get_testsuite_results_yaml", ("suite-{kind}",), "case-{kind}"),
    ("results.get_testsuite_results_csv", ("suite-{kind}",), "case-{kind}"),
    ("results.get_testsuite_results_count", ("suite-{kind}",), None),
    ("results.get_testcase_results_yaml", ("suite-{kind}", "case-{kind}"), "case-{kind}"),
    ("results.get_testcase_results_csv", ("suite-{kind}", "case-{kind}"), "case-{kind}"),
]


@pytest.mark.parametrize("role", ROLES)
def test_web_readers(lab, role, login_required):
    client = lab.web(role)
    for kind, job in lab.jobs.items():
        expected = outcome(role, kind, login_required)
        for address, marker in WEB_READERS:
            url = address.format(id=job.pk, kind=kind)
            answer = client.get(url)
            where = f"{role} {kind} {url}"
            if expected == "visible":
                assert answer.status_code == 200, where
                assert marker.format(kind=kind) in body(answer), where
            elif answer.status_code == 302:
                # a hidden job sends anonymous visitors to the login page, as does LOGIN_REQUIRED
                assert role == "anonymous" and answer["Location"].startswith("/accounts/login/"), where
            else:
                assert expected == "hidden" and answer.status_code == 404, where
                assert marker.format(kind=kind) not in body(answer), where
        for url in WEB_LISTS:
            answer = client.get(url)
            where = f"{role} {kind} {url}"
            if expected == "refused":
                assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/"), where
                continue
            assert answer.status_code == 200, where
            shown = f"matrix {kind} job" in body(answer) or f"/scheduler/job/{job.pk}\"" in body(answer)
            if expected == "hidden":
                assert not shown, where
            elif url == "/scheduler/jobs":
                assert shown, where


@pytest.mark.parametrize("role", ROLES)
def test_web_resubmit_form_shows_only_visible_jobs(lab, role, login_required):
    client = lab.web(role)
    for kind, job in lab.jobs.items():
        answer = client.get(f"/scheduler/jobsubmit?from={job.pk}")
        if role == "anonymous":
            assert answer.status_code == 302  # submitting always needs a login
            continue
        assert answer.status_code == 200
        assert (f"matrix {kind} job" in body(answer)) == (role in SEES[kind]), f"{role} {kind}"


@pytest.mark.parametrize("role", ROLES)
def test_rest_readers(lab, role, login_required):
    client = lab.rest(role)
    listed = client.get("/api/v0.2/jobs/?limit=100")
    if role == "anonymous" and login_required:
        assert listed.status_code == 401
    else:
        assert {row["id"] for row in listed.json()["results"]} == {
            job.pk for kind, job in lab.jobs.items() if role in SEES[kind]
        }
    for kind, job in lab.jobs.items():
        expected = outcome(role, kind, login_required)
        for address, marker in REST_READERS:
            url = address.format(id=job.pk)
            answer = client.get(url)
            where = f"{role} {kind} {url}"
            if expected == "visible":
                assert answer.status_code == 200, where
                assert marker.format(kind=kind) in body(answer), where
            else:
                assert answer.status_code == (401 if expected == "refused" else 404), where
                assert marker.format(kind=kind) not in body(answer), where


@pytest.mark.parametrize("role", ROLES)
def test_xmlrpc_readers(lab, role, login_required):
    rpc = lab.rpc(role)
    for kind, job in lab.jobs.items():
        expected = outcome(role, kind, login_required)
        for name, extra, marker in RPC_READERS:
            params = tuple(p.format(kind=kind) if isinstance(p, str) else p for p in extra)
            call = getattr(rpc, name)
            where = f"{role} {kind} {name}"
            if expected == "visible":
                result = call(str(job.pk), *params)
                if marker:
                    assert marker.format(kind=kind) in str(result), where
            else:
                assert fault_code(lambda c=call, j=str(job.pk), p=params: c(j, *p)) == (
                    401 if expected == "refused" else 404
                ), where
    if role == "anonymous" and login_required:
        assert fault_code(lambda: rpc.scheduler.jobs.list()) == 401
        return
    visible = {job.pk for kind, job in lab.jobs.items() if role in SEES[kind]}
    assert {row["id"] for row in rpc.scheduler.jobs.list(None, None, 0, 100)} == visible
    running = lab.jobs["group"].pk if role in SEES["group"] else None
    assert rpc.scheduler.devices.show("qemu-01")["current_job"] == running
    assert {d["current_job"] for d in rpc.scheduler.devices.list()} == {running}
    checked = rpc.system.user_can_view_jobs([str(job.pk) for job in lab.jobs.values()])
    assert {int(pk) for pk, can in checked.items() if can} == visible


# secrets: the submitter and admins read them, every other reader of the definition sees them masked


def definition_texts(lab: Lab, role: str, job: TestJob) -> dict[str, str]:
    """Every text that carries the job's definition, as ``role`` reads it."""
    texts = {
        "web job page": body(lab.web(role).get(f"/scheduler/job/{job.pk}")),
        "web definition": body(lab.web(role).get(f"/scheduler/job/{job.pk}/definition")),
        "rpc definition": lab.rpc(role).scheduler.jobs.definition(str(job.pk)),
    }
    detail = lab.rest(role).get(f"/api/v0.2/jobs/{job.pk}/").json()
    texts["rest definition"] = detail["definition"]
    texts["rest original_definition"] = detail["original_definition"]
    if role != "anonymous":
        texts["resubmit form"] = body(lab.web(role).get(f"/scheduler/jobsubmit?from={job.pk}"))
    return texts


@pytest.mark.parametrize("role", ROLES)
def test_secrets_are_masked_for_all_but_the_submitter_and_admins(lab, role):
    for kind, secrets in SECRETS.items():
        if role not in SEES[kind]:
            continue
        for where, text in definition_texts(lab, role, lab.jobs[kind]).items():
            for secret in secrets:
                if role in ("submitter", "admin"):
                    assert secret in text, f"{role} {kind} {where}: {secret} hidden"
                else:
                    assert secret not in text, f"{role} {kind} {where}: {secret} shown"
            if role not in ("submitter", "admin"):
                assert MASK in text, f"{role} {kind} {where}"
                assert f"matrix {kind} job" in text, f"{role} {kind} {where}: the rest of the definition is shown"


def test_masked_definition_keeps_its_layout_and_stays_valid(lab):
    text = lab.rpc("member").scheduler.jobs.definition(str(lab.jobs["group"].pk))
    original = lab.jobs["group"].original_definition
    assert len(text.splitlines()) == len(original.splitlines())
    data = yaml.safe_load(text)
    assert data["secrets"] == {"API_KEY": MASK}
    assert data["notify"]["callbacks"][0] == {"url": "http://example.com/cb", "token": MASK, "method": "POST"}
    assert data["actions"][0]["deploy"]["images"]["kernel"]["headers"] == {"PRIVATE-TOKEN": MASK}


def test_multinode_definitions_are_masked(lab):
    text = yaml.safe_dump({
        "job_name": "matrix multinode job",
        "visibility": {"group": ["team"]},
        "timeouts": {"job": {"minutes": 5}},
        "secrets": {"API_KEY": SECRET_VALUE},
        "protocols": {"lava-multinode": {"roles": {
            "server": {"device_type": "qemu", "count": 1}, "client": {"device_type": "qemu", "count": 1}},
            "timeout": {"minutes": 5}}},
        "actions": [{"boot": {"method": "minimal", "prompts": ["# "], "role": ["server", "client"]}}],
    })
    jobs = submit_job(text, lab.users["submitter"])
    assert len(jobs) == 2
    for job in jobs:
        assert SECRET_VALUE in TestJob.objects.get(pk=job.pk).definition
        for role, shown in (("member", False), ("submitter", True), ("admin", True)):
            for where, read in definition_texts(lab, role, job).items():
                assert (SECRET_VALUE in read) == shown, f"{role} {job.sub_id} {where}"
        assert SECRET_VALUE not in lab.rpc("member").scheduler.jobs.definition(job.sub_id)


def test_resubmission_by_someone_else_keeps_the_secrets_masked(lab):
    manager = User.objects.create_user("jobs-manager")
    manager.user_permissions.add(Permission.objects.get(codename="change_testjob"))
    manager.groups.add(Group.objects.get(name="team"))
    rpc = proxy(basic("jobs-manager", api_token(manager)))
    new_id = rpc.scheduler.jobs.resubmit(str(lab.jobs["group"].pk))
    copy = TestJob.objects.get(pk=new_id)
    assert copy.submitter == manager
    assert SECRET_VALUE not in copy.original_definition and MASK in copy.original_definition
    # the submitter's own resubmission keeps her secrets
    own = TestJob.objects.get(pk=lab.rpc("submitter").scheduler.jobs.resubmit(str(lab.jobs["group"].pk)))
    assert SECRET_VALUE in own.original_definition


def test_public_job_with_secrets_is_refused_at_submission(lab):
    data = yaml.safe_load(definition("group"))
    data["visibility"] = "public"
    text = yaml.safe_dump(data)
    with pytest.raises(SubmissionError) as refused:
        submit_job(text, lab.users["submitter"])
    assert refused.value.errors[0].startswith("secrets: a public job cannot have secrets")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        lab.rpc("submitter").scheduler.jobs.submit(text)
    assert fault.value.faultCode == 400 and "secrets: a public job cannot have secrets" in fault.value.faultString
    answer = lab.rest("submitter").post("/api/v0.2/jobs/", {"definition": text}, content_type="application/json")
    assert answer.status_code == 400 and "public job cannot have secrets" in answer.json()["message"]
    page = lab.web("submitter").post("/scheduler/jobsubmit", {"definition": text})
    assert page.status_code == 400 and "public job cannot have secrets" in body(page)
    assert TestJob.objects.count() == len(KINDS)


# lab configuration: for who may change the lab (a superuser, or the change_device/change_worker permissions)

CONFIG_ROLES = (*ROLES, "manager")


@pytest.fixture
def config_lab(lab) -> Lab:
    manager = User.objects.create_user("lab-manager")
    for codename in ("change_device", "change_worker"):
        manager.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="lab"))
    manager.groups.add(Group.objects.get(name="team"))
    lab.users["manager"] = manager
    lab.tokens["manager"] = api_token(manager)
    return lab


def config_outcome(role: str) -> str:
    if role in ("admin", "manager"):
        return "allowed"
    return "anonymous" if role == "anonymous" else "denied"


def text_of(result) -> str:
    """An XML-RPC answer as text: strings, Binary and lists of them."""
    if isinstance(result, xmlrpc.client.Binary):
        return result.data.decode()
    if isinstance(result, list):
        return "\n".join(text_of(item) for item in result)
    return str(result)


@pytest.mark.parametrize("role", CONFIG_ROLES)
def test_configuration_readers(config_lab, role):
    lab, expected = config_lab, config_outcome(role)
    rpc = lab.rpc(role)
    calls = {
        "dictionary": lambda: rpc.scheduler.devices.get_dictionary("qemu-01", False, None),
        "rendered dictionary": lambda: rpc.scheduler.devices.get_dictionary("qemu-01", True, None),
        "worker config": lambda: rpc.scheduler.workers.get_config("worker-1"),
        "worker env": lambda: rpc.scheduler.workers.get_env("worker-1"),
        "worker env-dut": lambda: rpc.scheduler.workers.get_env_dut("worker-1"),
        "job configuration": lambda: rpc.scheduler.jobs.configuration(str(lab.jobs["public"].pk)),
    }
    for where, call in calls.items():
        if expected == "allowed":
            shown = text_of(call())
            assert POWER_SECRET in shown or WORKER_SECRET in shown, where
        else:
            assert fault_code(call) == (401 if expected == "anonymous" else 403), f"{role} {where}"
    rest = lab.rest(role)
    for url in ("/api/v0.2/devices/qemu-01/dictionary/", "/api/v0.2/devices/qemu-01/dictionary/?render=true"):
        answer = rest.get(url)
        if expected == "allowed":
            assert answer.status_code == 200 and POWER_SECRET in answer.json()["dictionary"]
        else:
            assert answer.status_code == (401 if expected == "anonymous" else 403), f"{role} {url}"
    page = body(lab.web(role).get("/scheduler/device/qemu-01"))
    assert (POWER_SECRET in page) == (expected == "allowed"), role
    assert "only those who may change devices see it" in page or expected == "allowed"


@pytest.mark.parametrize("role", ("manager", "admin"))
def test_job_configuration_masks_the_job_secrets_for_a_lab_manager(config_lab, role):
    job, power = config_lab.rpc(role).scheduler.jobs.configuration(str(config_lab.jobs["group"].pk))[:2]
    assert POWER_SECRET in power.data.decode()
    assert (SECRET_VALUE in job.data.decode()) == (role == "admin")


@pytest.mark.parametrize("role", CONFIG_ROLES)
def test_health_check_secrets(config_lab, role, settings):
    lab = config_lab
    settings.HEALTH_CHECKS_PATH.mkdir()
    (settings.HEALTH_CHECKS_PATH / "qemu.yaml").write_text(definition("group"))
    shown = role == "admin"  # the right to change device types: the manager has not got it
    texts = {
        "rpc": lab.rpc(role).scheduler.device_types.get_health_check("qemu"),
        "rest": body(lab.rest(role).get("/api/v0.2/devicetypes/qemu/health_check/")),
        "web": body(lab.web(role).get("/scheduler/device_type/qemu")),
    }
    for where, text in texts.items():
        assert "matrix group job" in text, where
        assert (SECRET_VALUE in text) == shown and (CALLBACK_TOKEN in text) == shown, f"{role} {where}"


# LOGIN_REQUIRED: with it, anonymous callers get nothing anywhere


def test_login_required_refuses_every_anonymous_call(lab, settings):
    settings.LAVA = dict(settings.LAVA, LOGIN_REQUIRED=True)
    for name in sorted(METHODS):
        answer = Client().post("/RPC2", xmlrpc.client.dumps((), name), content_type="text/xml")
        with pytest.raises(xmlrpc.client.Fault) as fault:
            xmlrpc.client.loads(answer.content)
        assert fault.value.faultCode == 401 and "LOGIN_REQUIRED" in fault.value.faultString, name
    job = lab.jobs["public"].pk
    # every list of the router (a new endpoint is covered too), and details and readers beside them
    addresses = [f"/api/v0.2/{prefix}/" for prefix, _viewset, _basename in router.registry]
    addresses += ["/api/v0.2/", "/api/v0.2/schema/", "/api/v0.2/system/version/", "/api/v0.2/system/whoami/",
                  f"/api/v0.2/jobs/{job}/", f"/api/v0.2/jobs/{job}/logs/", "/api/v0.2/devices/qemu-01/",
                  "/api/v0.2/devicetypes/qemu/template/", "/api/v0.2/devicetypes/qemu/health_check/",
                  "/api/v0.2/workers/worker-1/"]
    for address in addresses:
        assert Client().get(address).status_code == 401, address
    answer = Client().post("/api/v0.2/jobs/validate/", {"definition": definition("public")},
                           content_type="application/json")
    assert answer.status_code == 401
    # logged-in callers are not concerned
    assert lab.rpc("other").system.whoami() == "bob"
    assert lab.rest("other").get("/api/v0.2/system/version/").status_code == 200
    assert lab.rest("other").get("/api/v0.2/devicetypes/qemu/template/").status_code == 200


# state changes: POST only, and a CSRF token for browser sessions


def state(job: TestJob) -> int:
    return TestJob.objects.get(pk=job.pk).state


@pytest.fixture
def queued(lab) -> TestJob:
    return submit_job(definition("public"), lab.users["submitter"])[0]


def test_rest_cancel_and_resubmit_refuse_get(lab, queued):
    client = lab.rest("submitter")
    assert client.get(f"/api/v0.2/jobs/{queued.pk}/cancel/").status_code == 405
    assert client.get(f"/api/v0.2/jobs/{queued.pk}/resubmit/").status_code == 405
    assert state(queued) == JobState.SUBMITTED
    assert TestJob.objects.count() == len(KINDS) + 1


def test_rest_state_changes_from_a_browser_session_need_the_csrf_token(lab, queued):
    session = lab.web("submitter", csrf=True)
    assert session.post(f"/api/v0.2/jobs/{queued.pk}/cancel/").status_code == 403
    assert state(queued) == JobState.SUBMITTED
    token = csrf_token(session)
    assert session.post(f"/api/v0.2/jobs/{queued.pk}/cancel/", HTTP_X_CSRFTOKEN=token).status_code == 200
    assert state(queued) == JobState.FINISHED
    # an API token is no browser's ambient credential: no CSRF token needed
    again = submit_job(definition("public"), lab.users["submitter"])[0]
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {lab.tokens['submitter']}")
    assert client.post(f"/api/v0.2/jobs/{again.pk}/cancel/").status_code == 200


def csrf_token(client: Client) -> str:
    page = body(client.get("/scheduler/jobsubmit"))
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_web_buttons_are_forms_posting_with_the_csrf_token(lab, queued):
    session = lab.web("submitter", csrf=True)
    page = body(session.get(f"/scheduler/job/{queued.pk}"))
    for name in ("cancel", "resubmit"):
        form = re.search(rf'<form method="post" action="/scheduler/job/{queued.pk}/{name}"[^>]*>(.*?)</form>', page)
        assert form and "csrfmiddlewaretoken" in form.group(1), name
    for name in ("cancel", "resubmit"):
        assert session.get(f"/scheduler/job/{queued.pk}/{name}").status_code == 405
        assert session.post(f"/scheduler/job/{queued.pk}/{name}").status_code == 403  # no CSRF token
    assert session.get("/scheduler/device/qemu-01/health").status_code == 405
    assert state(queued) == JobState.SUBMITTED and TestJob.objects.count() == len(KINDS) + 1
    answer = session.post(f"/scheduler/job/{queued.pk}/cancel", {"csrfmiddlewaretoken": csrf_token(session)})
    assert answer.status_code == 302 and state(queued) == JobState.FINISHED


def test_no_rest_action_changes_state_on_get():
    """Every extra action answering GET is a reader: a new state change cannot slip in on GET."""
    readers = {"logs", "csv", "yaml", "junit", "metadata", "suites", "tests", "dictionary", "template",
               "health_check"}
    for _prefix, viewset, _basename in router.registry:
        for extra in viewset.get_extra_actions():
            if "get" in extra.mapping:
                assert extra.__name__ in readers, f"{viewset.__name__}.{extra.__name__} answers GET"


# the real lavacli against a live server


@pytest.mark.django_db(transaction=True)
def test_lavacli_non_owner_reads_a_secret_job_masked_and_anonymous_is_refused(tmp_path, settings):
    """A live server with LOGIN_REQUIRED: lavacli as the submitter, a group member, and nobody."""
    if LAVACLI is None:
        pytest.skip("lavacli is not installed in the venv (pip install lavacli)")
    live = LiveLab(tmp_path)
    live.configure_test_process(settings)
    try:
        DeviceType.objects.create(name="qemu")
        Worker.objects.create(hostname="worker-cli")
        Device.objects.create(hostname="qemu-01", device_type_id="qemu", worker_host_id="worker-cli")
        team = Group.objects.create(name="team")
        alice, carol = User.objects.create_user("alice"), User.objects.create_user("carol")
        alice.groups.add(team)
        carol.groups.add(team)
        (job,) = submit_job(definition("group"), alice)
        live.env["LAVA_LOGIN_REQUIRED"] = "true"
        cli = Cli(tmp_path / "home", start_web(live))
        cli.identity("carol", "carol", api_token(carol))
        cli.identity("alice", "alice", api_token(alice))
        cli.identity("anonymous")
        refused = cli("-i", "anonymous", "jobs", "list", check=False)
        assert refused.returncode == 1 and "401" in refused.stderr and "LOGIN_REQUIRED" in refused.stderr
        masked = cli("-i", "carol", "jobs", "definition", str(job.pk)).stdout
        assert "matrix group job" in masked and MASK in masked
        assert all(secret not in masked for secret in SECRETS["group"])
        own = cli("-i", "alice", "jobs", "definition", str(job.pk)).stdout
        assert all(secret in own for secret in SECRETS["group"])
    finally:
        live.stop_all()
