"""XML-RPC at /RPC2 in process: authentication, faults, lavacli's methods and the visibility rule."""

import base64
import xmlrpc.client

import pytest
import yaml
from django.contrib.auth.models import Group, User
from django.test import Client

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import DeviceType
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.models import TestCase, TestSuite
from lava_server.accounts.models import AuthToken

pytestmark = pytest.mark.django_db


def job_text(name: str = "api job", visibility="public", device_type: str = "qemu") -> str:
    return yaml.safe_dump(
        {
            "job_name": name,
            "device_type": device_type,
            "visibility": visibility,
            "timeouts": {"job": {"minutes": 5}},
            "actions": [{"boot": {"method": "minimal", "prompts": ["# "]}}],
        }
    )


class DjangoTransport(xmlrpc.client.Transport):
    """Sends the XML-RPC body through Django's test client (the real view, no socket)."""

    def __init__(self, authorization: str | None = None):
        super().__init__()
        self.client = Client()
        self.authorization = authorization
        self.last_response = None

    def request(self, host, handler, request_body, verbose=False):
        extra = {"HTTP_AUTHORIZATION": self.authorization} if self.authorization else {}
        response = self.client.post(handler, request_body, content_type="text/xml", **extra)
        self.last_response = response
        if response.status_code != 200:
            raise xmlrpc.client.ProtocolError(handler, response.status_code, response.content.decode(), response)
        parser, unmarshaller = self.getparser()
        parser.feed(response.content)
        parser.close()
        return unmarshaller.close()


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def proxy(authorization: str | None = None, path: str = "/RPC2") -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(
        f"http://testserver{path}", transport=DjangoTransport(authorization), allow_none=True
    )


class Lab:
    """Two users, an admin, a device and jobs of each visibility."""

    def __init__(self, device):
        self.device = device
        self.alice = User.objects.create_user("alice")
        self.bob = User.objects.create_user("bob")
        self.admin = User.objects.create_superuser("admin")
        self.team = Group.objects.create(name="team")
        self.alice.groups.add(self.team)
        self.tokens = {u.username: AuthToken.objects.create(user=u).secret for u in (self.alice, self.bob, self.admin)}
        self.public = self.job(self.alice, True, "public job")
        self.private = self.job(self.alice, False, "alice's secret job")
        self.grouped = self.job(self.alice, False, "team job")
        self.grouped.viewing_groups.add(self.team)

    def job(self, user, public: bool, name: str) -> TestJob:
        return TestJob.objects.create(
            submitter=user, is_public=public, description=name, definition=job_text(name),
            original_definition=job_text(name), requested_device_type_id="qemu",
        )

    def rpc(self, username: str | None = None) -> xmlrpc.client.ServerProxy:
        if username is None:
            return proxy()
        return proxy(basic(username, self.tokens[username]))


@pytest.fixture
def lab(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    settings.DISPATCHER_D = tmp_path / "dispatcher.d"
    settings.DEVICE_TYPES_PATHS = [tmp_path / "device-types", *settings.DEVICE_TYPES_PATHS]
    return Lab(device)


def fault_code(call) -> int:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call()
    return info.value.faultCode


# transport and authentication


def test_both_paths_serve_and_get_is_refused(lab):
    assert proxy(path="/RPC2").system.version() == proxy(path="/RPC2/").system.version()
    response = Client().get("/RPC2")
    assert response.status_code == 405


def test_version_is_calendar_form_and_whoami(lab):
    import re

    assert re.match(r"^20\d{2}\.\d{1,2}", lab.rpc().system.version())
    assert lab.rpc().system.whoami() is None
    assert lab.rpc("alice").system.whoami() == "alice"
    assert lab.rpc().system.api_version() == 2


def test_wrong_token_is_http_401_with_challenge(lab):
    transport = DjangoTransport(basic("alice", "wrong"))
    server = xmlrpc.client.ServerProxy("http://testserver/RPC2", transport=transport, allow_none=True)
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        server.system.version()
    assert info.value.errcode == 401
    assert "Basic" in transport.last_response["WWW-Authenticate"]


def test_malformed_authorization_is_http_400(lab):
    for header in ("Basic !!!notbase64", "Bearer abc", "Basic " + base64.b64encode(b"nocolon").decode()):
        with pytest.raises(xmlrpc.client.ProtocolError) as info:
            proxy(header).system.version()
        assert info.value.errcode == 400, header


def test_rest_style_token_header_also_works(lab):
    assert proxy(f"Token {lab.tokens['bob']}").system.whoami() == "bob"


def test_inactive_user_token_is_refused(lab):
    lab.bob.is_active = False
    lab.bob.save()
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        lab.rpc("bob").system.whoami()
    assert info.value.errcode == 401


def test_faults_for_unknown_method_bad_arity_and_bad_ids(lab):
    assert fault_code(lambda: lab.rpc().no.such.method()) == 404
    assert fault_code(lambda: lab.rpc().scheduler.jobs.show()) == 400
    assert fault_code(lambda: lab.rpc().scheduler.jobs.show("1", "2", "3")) == 400
    assert fault_code(lambda: lab.rpc().scheduler.jobs.show("abc")) == 400
    assert fault_code(lambda: lab.rpc().scheduler.jobs.show("999999")) == 404
    assert fault_code(lambda: lab.rpc().scheduler.jobs.list("NOPE")) == 400


def test_malformed_body_is_a_fault_not_a_500(lab):
    response = Client().post("/RPC2", b"<not xml", content_type="text/xml")
    assert response.status_code == 200
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(response.content)
    assert info.value.faultCode == 400


def test_introspection(lab):
    methods = lab.rpc().system.listMethods()
    for name in ("scheduler.jobs.submit", "scheduler.jobs.logs", "results.get_testjob_results_yaml"):
        assert name in methods
    assert "YAML" in lab.rpc().system.methodHelp("scheduler.jobs.logs")
    assert lab.rpc().system.methodSignature("scheduler.jobs.logs")[0][0] == "undef"
    results = lab.rpc().system.multicall(
        [{"methodName": "system.whoami", "params": []}, {"methodName": "nope", "params": []}]
    )
    assert results[0] == [None] and results[1]["faultCode"] == 404


# jobs


def test_anonymous_submit_is_fault_401(lab):
    assert fault_code(lambda: lab.rpc().scheduler.jobs.submit(job_text())) == 401


def test_submit_show_definition_and_cancel(lab):
    job_id = lab.rpc("bob").scheduler.jobs.submit(job_text("bob's job"))
    assert isinstance(job_id, int)
    shown = lab.rpc("bob").scheduler.jobs.show(str(job_id))
    assert shown["submitter"] == "bob" and shown["state"] == "Submitted" and shown["health"] == "Unknown"
    assert shown["device"] is None and shown["device_type"] == "qemu" and shown["visibility"] == "Public"
    assert isinstance(shown["submit_time"], xmlrpc.client.DateTime) and shown["start_time"] is None
    assert "bob's job" in lab.rpc().scheduler.jobs.definition(str(job_id))
    assert fault_code(lambda: lab.rpc("alice").scheduler.jobs.cancel(str(job_id))) == 403
    assert lab.rpc("bob").scheduler.jobs.cancel(str(job_id)) is None
    job = TestJob.objects.get(pk=job_id)
    assert (job.state, job.health) == (JobState.FINISHED, JobHealth.CANCELED)
    assert lab.rpc("bob").scheduler.jobs.cancel(str(job_id)) is None  # twice is fine
    new_id = lab.rpc("bob").scheduler.jobs.resubmit(str(job_id))
    assert isinstance(new_id, int) and new_id != job_id


def test_submit_errors_are_400_with_the_path(lab):
    with pytest.raises(xmlrpc.client.Fault) as info:
        lab.rpc("bob").scheduler.jobs.submit(job_text(device_type="no-such-type"))
    assert info.value.faultCode == 400 and "device_type" in info.value.faultString
    assert fault_code(lambda: lab.rpc("bob").scheduler.jobs.submit("{{{")) == 400


def test_validate(lab):
    assert lab.rpc().scheduler.jobs.validate(job_text(), False) == {}
    broken = yaml.safe_load(job_text())
    broken["actions"][0]["boot"]["method"] = "magic"
    answer = lab.rpc().scheduler.jobs.validate(yaml.safe_dump(broken), True)
    assert "boot" in answer["path"] and "magic" in answer["msg"]


def test_logs_ranges_and_finished_flag(lab):
    store = LogStore(job_output_dir(lab.public))
    store.append([f'- {{"dt": "2026-01-01T00:00:00", "lvl": "info", "msg": "line {i}"}}' for i in range(10)])
    finished, data = lab.rpc().scheduler.jobs.logs(str(lab.public.pk), 0, None)
    assert finished is False and isinstance(data, str)
    records = yaml.safe_load(data)
    assert [r["msg"] for r in records] == [f"line {i}" for i in range(10)]
    _, data = lab.rpc().scheduler.jobs.logs(str(lab.public.pk), 3, 5)
    assert [r["msg"] for r in yaml.safe_load(data)] == ["line 3", "line 4"]
    _, data = lab.rpc().scheduler.jobs.logs(str(lab.public.pk), 10, None)
    assert data == ""
    assert lab.rpc().scheduler.jobs.logs_count(str(lab.public.pk)) == 10
    lab.public.cancel()
    finished, _ = lab.rpc().scheduler.jobs.logs(str(lab.public.pk), 10)
    assert finished is True


def test_logs_with_characters_xml_cannot_carry_come_as_binary(lab):
    store = LogStore(job_output_dir(lab.public))
    store.append(['- {"dt": "x", "lvl": "target", "msg": "raw \x1b[0m escape"}'])
    _, data = lab.rpc().scheduler.jobs.logs(str(lab.public.pk), 0, None)
    assert isinstance(data, xmlrpc.client.Binary) and b"\x1b[0m" in data.data


def test_list_filters_limit_and_verbose(lab):
    for index in range(3):
        lab.job(lab.bob, True, f"bulk {index}")
    jobs = lab.rpc().scheduler.jobs.list(None, None, 0, 2, None, False)
    assert len(jobs) == 2 and jobs[0]["description"] == "bulk 2"
    assert set(jobs[0]) == {"id", "description", "device_type", "health", "state", "submitter"}
    verbose = lab.rpc().scheduler.jobs.list("SUBMITTED", "UNKNOWN", 0, 500, None, True)
    assert len(verbose) == 4  # the public ones only
    assert {"actual_device", "start_time", "end_time", "error_msg", "error_type"} <= set(verbose[0])
    assert lab.rpc().scheduler.jobs.list("FINISHED", None, 0, 25, None, False) == []
    queue = lab.rpc().scheduler.jobs.queue(["qemu"], 0, 10)
    assert queue[0]["requested_device_type"] == "qemu"


def test_configuration_before_start_is_404(lab):
    assert fault_code(lambda: lab.rpc("admin").scheduler.jobs.configuration(str(lab.public.pk))) == 404


# visibility

JOB_READERS = [
    ("scheduler.jobs.show", ()),
    ("scheduler.jobs.logs", (0, None)),
    ("scheduler.jobs.logs_count", ()),
    ("scheduler.jobs.definition", ()),
    ("scheduler.jobs.configuration", ()),
    ("results.get_testjob_results_yaml", ()),
    ("results.get_testjob_results_csv", ()),
    ("results.get_testjob_suites_list_yaml", ()),
    ("results.get_testjob_metadata", ()),
    ("results.get_testsuite_results_yaml", ("lava",)),
    ("results.get_testcase_results_yaml", ("lava", "job")),
]


def test_private_and_group_jobs_are_hidden_everywhere(lab):
    LogStore(job_output_dir(lab.private)).append(['- {"dt": "x", "lvl": "info", "msg": "secret"}'])
    suite = TestSuite.objects.create(job=lab.private, name="lava")
    TestCase.objects.create(suite=suite, name="job", result=0, metadata={})
    lab.private.actual_device = lab.device
    TestJob.objects.filter(pk=lab.private.pk).update(actual_device=lab.device)
    hidden = (str(lab.private.pk), str(lab.grouped.pk))
    for who in (None, "bob"):
        rpc = lab.rpc(who)
        for job_id in hidden:
            for name, extra in JOB_READERS:
                function = getattr(rpc, name)
                assert fault_code(lambda f=function, j=job_id, e=extra: f(j, *e)) == 404, name
        listed = {job["id"] for job in rpc.scheduler.jobs.list(None, None, 0, 100, None, True)}
        assert listed == {lab.public.pk}
        queued = {job["id"] for job in rpc.scheduler.jobs.queue(None, 0, 100)}
        assert queued == {lab.public.pk}
        assert all(d["current_job"] is None for d in rpc.scheduler.devices.list(True))
        assert rpc.scheduler.devices.show(lab.device.hostname)["current_job"] is None
    assert fault_code(lambda: lab.rpc("bob").scheduler.jobs.cancel(hidden[0])) == 404
    assert fault_code(lambda: lab.rpc("bob").scheduler.jobs.resubmit(hidden[0])) == 404
    # the owner and the group see them; a superuser sees everything
    assert lab.rpc("alice").scheduler.jobs.show(hidden[0])["visibility"] == "Personal"
    assert lab.rpc("alice").scheduler.jobs.show(hidden[1])["visibility"] == "Group (team)"
    assert len(lab.rpc("admin").scheduler.jobs.list(None, None, 0, 100, None, False)) == 3
    assert lab.rpc("alice").scheduler.devices.show(lab.device.hostname)["current_job"] == lab.private.pk
    assert lab.rpc("alice").system.user_can_view_jobs([lab.private.pk, lab.public.pk]) == {
        str(lab.private.pk): True, str(lab.public.pk): True}
    assert lab.rpc("bob").system.user_can_view_jobs([lab.private.pk]) == {str(lab.private.pk): False}


# lab objects


def test_devices_workers_and_device_types(lab):
    rpc = lab.rpc()
    (device,) = rpc.scheduler.devices.list()
    assert device == {"hostname": "qemu-01", "type": "qemu", "health": "Unknown", "state": "Idle",
                      "current_job": None, "pipeline": True}
    shown = rpc.scheduler.devices.show("qemu-01")
    assert shown["worker"] == "worker-1" and shown["has_device_dict"] is False and shown["tags"] == []
    assert fault_code(lambda: rpc.scheduler.devices.show("nope")) == 404
    assert rpc.scheduler.workers.list() == ["worker-1"]
    worker = rpc.scheduler.workers.show("worker-1")
    assert worker["devices"] == ["qemu-01"] and isinstance(worker["last_ping"], xmlrpc.client.DateTime)
    assert worker["state"] == "Online" and worker["health"] == "Active" and worker["job_limit"] == 0
    assert rpc.scheduler.device_types.list(False) == [
        {"name": "qemu", "devices": 1, "installed": True, "template": True}]
    assert rpc.scheduler.device_types.show("qemu")["devices"] == ["qemu-01"]


def test_lab_changes_need_an_admin(lab):
    dictionary = "{% extends 'qemu.jinja2' %}\n{% set arch = 'amd64' %}\n"
    assert fault_code(lambda: lab.rpc().scheduler.devices.set_dictionary("qemu-01", dictionary)) == 401
    assert fault_code(lambda: lab.rpc("bob").scheduler.devices.set_dictionary("qemu-01", dictionary)) == 403
    assert lab.rpc("admin").scheduler.devices.set_dictionary("qemu-01", dictionary) is True
    # power commands and credentials: the right to change devices is needed to read them
    assert fault_code(lambda: lab.rpc().scheduler.devices.get_dictionary("qemu-01", False, None)) == 401
    assert fault_code(lambda: lab.rpc("bob").scheduler.devices.get_dictionary("qemu-01", False, None)) == 403
    assert lab.rpc("admin").scheduler.devices.get_dictionary("qemu-01", False, None) == dictionary
    rendered = yaml.safe_load(lab.rpc("admin").scheduler.devices.get_dictionary("qemu-01", True, None))
    assert "actions" in rendered
    assert fault_code(lambda: lab.rpc("admin").scheduler.devices.set_dictionary("qemu-01", "{% extends 'x.jinja2' %}")) == 400
    lab.rpc("admin").scheduler.devices.update("qemu-01", None, None, None, None, "MAINTENANCE", None, None, "fixing")
    assert lab.rpc().scheduler.devices.show("qemu-01")["health"] == "Maintenance"
    lab.rpc("admin").scheduler.workers.update("worker-1", "the worker", "MAINTENANCE")
    assert lab.rpc().scheduler.workers.show("worker-1")["health"] == "Maintenance"
    lab.rpc("admin").scheduler.tags.add("usb", "has usb")
    lab.rpc("admin").scheduler.devices.tags.add("qemu-01", "usb")
    assert lab.rpc().scheduler.tags.show("usb")["devices"] == ["qemu-01"]
    lab.rpc("admin").scheduler.aliases.add("kvm", "qemu")
    assert lab.rpc().scheduler.aliases.show("kvm") == {"name": "kvm", "device_type": "qemu"}
    lab.rpc("admin").scheduler.device_types.add("bbb", "BeagleBone", True, False, 24, "hours")
    assert DeviceType.objects.filter(name="bbb").exists()
    lab.rpc("admin").scheduler.device_types.set_health_check("qemu", job_text())
    assert "api job" in lab.rpc().scheduler.device_types.get_health_check("qemu")
    lab.rpc("admin").scheduler.workers.set_env("worker-1", "overrides: {}\n")
    assert fault_code(lambda: lab.rpc().scheduler.workers.get_env("worker-1")) == 401  # needs change rights
    assert lab.rpc("admin").scheduler.workers.get_env("worker-1") == "overrides: {}\n"
    assert lab.rpc().scheduler.workers.show("worker-1")["default_env"] is False


def test_results_yaml_for_lavacli(lab):
    suite = TestSuite.objects.create(job=lab.public, name="0_smoke")
    TestCase.objects.create(suite=suite, name="uname", result=0, metadata={"case": "uname", "result": "pass"})
    TestCase.objects.create(suite=suite, name="mem", result=1, measurement="12.5", units="MB", metadata={})
    rows = yaml.safe_load(lab.rpc().results.get_testjob_results_yaml(str(lab.public.pk)))
    assert [(r["suite"], r["name"], r["result"]) for r in rows] == [("0_smoke", "uname", "pass"), ("0_smoke", "mem", "fail")]
    assert rows[1]["measurement"] == "12.5" and rows[1]["unit"] == "MB"
    one = yaml.safe_load(lab.rpc().results.get_testcase_results_yaml(str(lab.public.pk), "0_smoke", "mem"))
    assert one[0]["result"] == "fail"
    assert fault_code(lambda: lab.rpc().results.get_testsuite_results_yaml(str(lab.public.pk), "nope")) == 404
    assert lab.rpc().results.get_testsuite_results_count(str(lab.public.pk), "0_smoke") == 2
    assert "uname" in lab.rpc().results.get_testjob_results_csv(str(lab.public.pk))
