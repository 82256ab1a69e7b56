"""Every result lavacli reads, marshalled and unmarshalled as on the wire, has the types lavacli expects.

lavacli JSON-dumps some results (no dateTime allowed there), calls ``.value``
on others (dateTime required), and indexes every key it prints (all keys
present, nil when unknown).
"""

import json
import xmlrpc.client

import pytest
import yaml

from lava_scheduler.jobs.states import JobHealth
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.master.jobfiles import archive
from lava_scheduler.results.models import TestCase, TestSuite
from lava_server.xmlrpc.dispatcher import call
from lava_server.xmlrpc.marshal import method_response
from lava_server.xmlrpc.registry import Context
from tests.server.test_xmlrpc import Lab, job_text

pytestmark = pytest.mark.django_db

DateTime = xmlrpc.client.DateTime
Binary = xmlrpc.client.Binary
OPT_STR = (str, type(None))


@pytest.fixture
def lab(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.DISPATCHER_D = tmp_path / "dispatcher.d"
    lab = Lab(device)
    job = lab.public
    job.go_state_scheduled(device)
    job.go_state_running()
    archive(job, {"definition": job_text(), "device": "device: 1\n", "dispatcher": "", "env": "", "env_dut": ""})
    LogStore(job_output_dir(job)).append(['- {"dt": "2026-01-01T00:00:00", "lvl": "info", "msg": "hi"}'])
    suite = TestSuite.objects.create(job=job, name="lava")
    TestCase.objects.create(suite=suite, name="job", result=0, metadata={"case": "job", "result": "pass"})
    job.go_state_finished(JobHealth.COMPLETE)
    (tmp_path / "devices").mkdir()
    (tmp_path / "devices" / "qemu-01.jinja2").write_text("{% extends 'qemu.jinja2' %}\n")
    return lab


def wire(lab: Lab, name: str, *params, user="alice"):
    """The result as a client decodes it from the XML-RPC answer."""
    user_obj = {"alice": lab.alice, "admin": lab.admin}[user]
    result = call(Context(user_obj), name, params)
    body = method_response(result)  # the dispatcher's marshalling (jobs.logs hands it escaped text)
    (decoded,), _ = xmlrpc.client.loads(body, use_builtin_types=False)
    return decoded


def check(struct: dict, types: dict) -> None:
    assert set(types) <= set(struct), f"missing keys: {set(types) - set(struct)}"
    for key, expected in types.items():
        assert isinstance(struct[key], expected), f"{key}: {struct[key]!r} is not {expected}"


def test_system_methods(lab):
    assert isinstance(wire(lab, "system.version"), str)
    assert wire(lab, "system.whoami") == "alice"
    assert isinstance(wire(lab, "system.api_version"), int)
    assert all(isinstance(name, str) for name in wire(lab, "system.listMethods"))
    assert isinstance(wire(lab, "system.methodHelp", "scheduler.jobs.show"), str)
    assert isinstance(wire(lab, "system.methodSignature", "scheduler.jobs.show"), list)


def test_jobs_show_has_datetimes_and_every_key(lab):
    shown = wire(lab, "scheduler.jobs.show", str(lab.public.pk))
    check(shown, {
        "id": int, "description": str, "submitter": str, "device_type": str, "device": str,
        "health_check": bool, "state": str, "health": str, "pipeline": bool, "tags": list, "visibility": str,
        "submit_time": DateTime, "start_time": DateTime, "end_time": DateTime,
        "failure_comment": OPT_STR, "error_type": OPT_STR, "error_msg": OPT_STR,
    })
    queued = wire(lab, "scheduler.jobs.show", str(lab.private.pk))
    assert queued["start_time"] is None and queued["end_time"] is None and queued["device"] is None


def test_jobs_list_and_queue_are_json_safe(lab):
    for verbose in (False, True):
        jobs = wire(lab, "scheduler.jobs.list", None, None, 0, 25, None, verbose)
        json.dumps(jobs)
        keys = {"id": int, "description": str, "device_type": str, "health": str, "state": str, "submitter": str}
        if verbose:
            keys |= {"actual_device": OPT_STR, "start_time": OPT_STR, "end_time": OPT_STR,
                     "error_msg": OPT_STR, "error_type": OPT_STR}
        for job in jobs:
            check(job, keys)
    queue = wire(lab, "scheduler.jobs.queue", None, 0, 25)
    json.dumps(queue)
    check(queue[0], {"id": int, "description": str, "requested_device_type": str, "submitter": str})


def test_jobs_logs_definition_validate_configuration(lab):
    finished, data = wire(lab, "scheduler.jobs.logs", str(lab.public.pk), 0, None)
    # lavacli accepts Binary or str (str unless the log holds characters XML cannot carry)
    assert finished is True and isinstance(data, str | Binary)
    assert yaml.safe_load(data if isinstance(data, str) else data.data)[0]["msg"] == "hi"
    assert isinstance(wire(lab, "scheduler.jobs.logs_count", str(lab.public.pk)), int)
    assert isinstance(wire(lab, "scheduler.jobs.definition", str(lab.public.pk)), str)
    assert wire(lab, "scheduler.jobs.validate", job_text(), False) == {}
    check(wire(lab, "scheduler.jobs.validate", "job_name: x\n", True), {"path": str, "msg": str})
    config = wire(lab, "scheduler.jobs.configuration", str(lab.public.pk), user="admin")
    assert len(config) == 5 and isinstance(config[0], Binary) and isinstance(config[1], Binary)
    assert config[2] is None
    assert isinstance(wire(lab, "scheduler.jobs.submit", job_text()), int)


def test_results_are_yaml_strings(lab):
    for name, params in (
        ("results.get_testjob_results_yaml", ()),
        ("results.get_testsuite_results_yaml", ("lava",)),
        ("results.get_testcase_results_yaml", ("lava", "job")),
        ("results.get_testjob_suites_list_yaml", ()),
    ):
        text = wire(lab, name, str(lab.public.pk), *params)
        assert isinstance(text, str), name
        rows = yaml.safe_load(text)
        assert isinstance(rows, list) and rows, name
    row = yaml.safe_load(wire(lab, "results.get_testjob_results_yaml", str(lab.public.pk)))[0]
    check(row, {"suite": str, "name": str, "result": str, "job": str, "id": int, "logged": str, "metadata": dict})


def test_devices_are_json_safe(lab):
    devices = wire(lab, "scheduler.devices.list", True)
    json.dumps(devices)
    check(devices[0], {"hostname": str, "type": str, "health": str, "state": str,
                       "current_job": (int, type(None)), "pipeline": bool})
    assert wire(lab, "scheduler.devices.list") == devices
    shown = wire(lab, "scheduler.devices.show", "qemu-01")
    json.dumps(shown)
    check(shown, {"hostname": str, "device_type": str, "health": str, "state": str, "health_job": bool,
                  "description": str, "pipeline": bool, "has_device_dict": bool, "worker": OPT_STR,
                  "current_job": (int, type(None)), "tags": list, "permissions": list})
    assert isinstance(wire(lab, "scheduler.devices.get_dictionary", "qemu-01", False, None, user="admin"), str)
    assert isinstance(wire(lab, "scheduler.devices.get_dictionary", "qemu-01", True, None, user="admin"), str)
    assert wire(lab, "scheduler.devices.set_dictionary", "qemu-01", "{% extends 'qemu.jinja2' %}\n",
                user="admin") is True


def test_device_types_are_json_safe(lab):
    types = wire(lab, "scheduler.device_types.list", False)
    json.dumps(types)
    check(types[0], {"name": str, "devices": int, "installed": bool, "template": bool})
    shown = wire(lab, "scheduler.device_types.show", "qemu")
    json.dumps(shown)
    check(shown, {"name": str, "description": str, "display": bool, "health_disabled": bool,
                  "health_denominator": str, "health_frequency": int, "aliases": list, "devices": list,
                  "default_template": bool, "permissions": list})
    devices = wire(lab, "scheduler.device_types.devices", "qemu", None)
    json.dumps(devices)
    check(devices[0], {"hostname": str, "state": str, "health": str})
    assert isinstance(wire(lab, "scheduler.device_types.get_template", "qemu"), str)


def test_workers(lab):
    assert wire(lab, "scheduler.workers.list") == ["worker-1"]
    assert wire(lab, "scheduler.workers.list", True) == ["worker-1"]
    shown = wire(lab, "scheduler.workers.show", "worker-1")
    check(shown, {"hostname": str, "description": str, "state": str, "health": str, "devices": list,
                  "last_ping": DateTime, "job_limit": int, "version": str, "default_config": bool,
                  "default_env": bool, "default_env_dut": bool})
    assert isinstance(shown["last_ping"].value, str)


def test_tags_and_aliases_are_json_safe(lab):
    wire(lab, "scheduler.tags.add", "usb", None, user="admin")
    wire(lab, "scheduler.aliases.add", "kvm", "qemu", user="admin")
    for name, params in (("scheduler.tags.list", ()), ("scheduler.tags.show", ("usb",)),
                         ("scheduler.aliases.list", ()), ("scheduler.aliases.show", ("kvm",))):
        json.dumps(wire(lab, name, *params))
    assert wire(lab, "scheduler.aliases.show", "kvm") == {"name": "kvm", "device_type": "qemu"}


def test_a_multinode_submission_answers_its_sub_job_ids(lab):
    """The reference answers a group with its sub ids ("12.0", "12.1"), which lavacli prints and
    ``jobs show``/``logs``/``results`` take back."""
    group = yaml.safe_dump({
        "job_name": "group", "visibility": "public", "timeouts": {"job": {"minutes": 5}},
        "protocols": {"lava-multinode": {"timeout": {"minutes": 1}, "roles": {
            "server": {"device_type": "qemu", "count": 1}, "client": {"device_type": "qemu", "count": 1}}}},
        "actions": [{"boot": {"role": ["server", "client"], "method": "minimal", "prompts": ["# "]}}],
    })
    ids = wire(lab, "scheduler.jobs.submit", group)
    first = ids[0].split(".")[0]
    assert ids == [f"{first}.0", f"{first}.1"]
    assert wire(lab, "scheduler.jobs.show", ids[1])["id"] == ids[1]
    again = wire(lab, "scheduler.jobs.resubmit", ids[1])
    assert isinstance(again, list) and len(again) == 2 and again[0].endswith(".0") and again[0] != ids[0]
