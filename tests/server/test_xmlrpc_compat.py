"""The reference's other XML-RPC methods, in process: flat legacy names, result queries, capabilities, certificates."""

import xmlrpc.client

import pytest
import yaml
from django.contrib.auth.models import Permission, User

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth
from lava_scheduler.lab import files
from lava_scheduler.lab.models import Device, Worker
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.queries.models import Query
from lava_scheduler.results.models import TestCase, TestSuite
from lava_scheduler.results.models import TestResult as CaseResult
from lava_server.accounts.models import AuthToken
from tests.server.test_xmlrpc import basic, job_text, proxy

pytestmark = pytest.mark.django_db

QEMU_DICTIONARY = "{% extends 'qemu.jinja2' %}\n{% set arch = 'amd64' %}\n"


@pytest.fixture
def lab(settings, tmp_path, qemu_type, device):
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.JOB_OUTPUT_DIR = str(tmp_path / "job-output")
    settings.DISPATCHER_D = str(tmp_path / "dispatcher.d")
    files.write_dictionary(device.hostname, QEMU_DICTIONARY)
    return device


def as_user(user: User) -> xmlrpc.client.ServerProxy:
    return proxy(basic(user.username, AuthToken.objects.create(user=user).secret))


@pytest.fixture
def admin_rpc(db):
    return as_user(User.objects.create_superuser("root-admin"))


def fault_code(call) -> int:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call()
    return info.value.faultCode


def test_capabilities_and_certificates(admin_rpc, worker):
    capabilities = proxy().system.getCapabilities()
    assert {"introspect", "faults_interop", "system.multicall"} <= set(capabilities)
    key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    assert admin_rpc.scheduler.workers.set_certificate(worker.hostname, f'curve\n    public-key = "{key}"\n')
    assert Worker.objects.get(pk=worker.hostname).public_key == key
    assert key in admin_rpc.scheduler.workers.get_certificate(worker.hostname)
    assert fault_code(lambda: admin_rpc.scheduler.workers.set_certificate(worker.hostname, 'secret-key = "x"')) == 400
    assert fault_code(lambda: admin_rpc.scheduler.workers.set_certificate(worker.hostname, "short")) == 400
    assert fault_code(lambda: proxy().scheduler.workers.get_certificate(worker.hostname)) == 401


def test_flat_legacy_names(lab, admin_rpc, user):
    rpc = admin_rpc
    assert rpc.scheduler.validate_yaml(job_text()) is True
    assert fault_code(lambda: rpc.scheduler.validate_yaml("job_name: x\n")) == 400
    job_id = rpc.scheduler.submit_job(job_text("legacy"))
    assert rpc.scheduler.pending_jobs_by_device_type() == {"qemu": 1}
    assert rpc.scheduler.all_jobs()[0][:2] == [str(job_id), "legacy"]
    details = rpc.scheduler.job_details(job_id)
    assert details["status"] == "Submitted" and "job_name: legacy" in details["definition"]
    again = rpc.scheduler.resubmit_job(job_id)
    assert again == job_id + 1
    # the raw log from a byte offset
    job = TestJob.objects.get(pk=job_id)
    LogStore(job_output_dir(job)).append(['- {"lvl": "info", "msg": "one"}', '- {"lvl": "info", "msg": "two"}'])
    whole = rpc.scheduler.job_output(job_id).data
    assert whole.startswith(b'- {"lvl": "info", "msg": "one"}')
    assert rpc.scheduler.job_output(job_id, len(whole) // 2 + 1).data == whole[len(whole) // 2 + 1 :]
    assert fault_code(lambda: rpc.scheduler.job_output(job_id + 1)) == 404
    # device maintenance and back, the old status words
    rpc.scheduler.put_into_maintenance_mode(lab.hostname, "cable swap")
    assert rpc.scheduler.get_device_status(lab.hostname)["status"] == "maintenance"
    rpc.scheduler.put_into_online_mode(lab.hostname, "fixed", True)
    assert Device.objects.get(pk=lab.hostname).get_health_display() == "Unknown"
    assert fault_code(lambda: rpc.scheduler.put_into_maintenance_mode("no-such-device", "x")) == 404
    # dictionaries: export, import, rendered configuration, validation of every device
    assert rpc.scheduler.export_device_dictionary(lab.hostname) == QEMU_DICTIONARY
    assert "imported" in rpc.scheduler.import_device_dictionary(lab.hostname, QEMU_DICTIONARY + "{# v2 #}\n")
    assert fault_code(lambda: rpc.scheduler.import_device_dictionary(lab.hostname, "{% extends 'x.jinja2' %}")) == 400
    assert isinstance(yaml.safe_load(rpc.scheduler.get_device_config(lab.hostname)), dict)
    assert rpc.scheduler.validate_pipeline_devices() == [{"device": lab.hostname, "valid": True, "message": ""}]
    assert rpc.scheduler.get_publisher_event_socket() == "tcp://*:5500"
    # readers of dictionaries and configuration are for admins only
    someone = as_user(user)
    assert fault_code(lambda: someone.scheduler.get_device_config(lab.hostname)) == 403
    assert fault_code(lambda: someone.scheduler.export_device_dictionary(lab.hostname)) == 403
    assert fault_code(lambda: proxy().scheduler.put_into_maintenance_mode(lab.hostname, "x")) == 401


def test_recent_jobs(lab, admin_rpc, user):
    job_id = admin_rpc.scheduler.submit_job(job_text("recent"))
    job = TestJob.objects.get(pk=job_id)
    job.go_state_finished(JobHealth.COMPLETE)
    assert [j["id"] for j in admin_rpc.scheduler.get_recent_jobs_for_device_type("qemu", 5)] == [str(job_id)]
    assert admin_rpc.scheduler.get_recent_jobs_for_device(lab.hostname) == []
    assert as_user(user).scheduler.get_recent_jobs_for_device_type("qemu", 5, True) == []


def test_result_queries(lab, admin_rpc, user):
    failed = TestJob.objects.get(pk=admin_rpc.scheduler.submit_job(job_text("query me")))
    failed.go_state_finished(JobHealth.INCOMPLETE, "Infrastructure", "no power")
    suite = TestSuite.objects.create(job=failed, name="1_smoke")
    TestCase.objects.create(suite=suite, name="boot", result=CaseResult.FAIL)
    TestCase.objects.create(suite=suite, name="uname", result=CaseResult.PASS)
    rpc = admin_rpc
    jobs = rpc.results.make_custom_query("testjob", "testjob__health__exact__Incomplete")
    assert [j["id"] for j in jobs] == [failed.pk] and jobs[0]["health"] == "Incomplete"
    cases = rpc.results.make_custom_query("testcase", "testjob__health__exact__Incomplete,testcase__result__exact__fail")
    assert [(c["suite"], c["name"], c["result"]) for c in cases] == [("1_smoke", "boot", "fail")]
    assert rpc.results.make_custom_query("testsuite", "testcase__name__icontains__nam")[0]["name"] == "1_smoke"
    assert rpc.results.make_custom_query("testcase", "testcase__name__ne__boot", 1)[0]["name"] == "uname"
    for bad in ("testjob__health__exact", "testjob__colour__exact__red", "testjob__health__like__x",
                "testjob__health__exact__Sleepy", "robots__id__exact__1"):
        assert fault_code(lambda bad=bad: rpc.results.make_custom_query("testjob", bad)) == 400
    assert fault_code(lambda: rpc.results.make_custom_query("robots", "")) == 400
    # saved queries: the owner's, or another user's once published
    owner = User.objects.get(username="root-admin")
    Query.objects.create(owner=owner, name="broken-boots", entity="testcase",
                         conditions="testcase__name__exact__boot,testcase__result__exact__fail")
    assert [c["name"] for c in rpc.results.run_query("broken-boots")] == ["boot"]
    rpc.results.refresh_query("broken-boots")
    rpc.results.refresh_all_queries()
    someone = as_user(user)
    assert fault_code(lambda: someone.results.run_query("broken-boots", 10, "root-admin")) == 404
    Query.objects.filter(name="broken-boots").update(is_published=True)
    assert [c["name"] for c in someone.results.run_query("broken-boots", 10, "root-admin")] == ["boot"]
    TestJob.objects.filter(pk=failed.pk).update(is_public=False)
    assert someone.results.run_query("broken-boots", 10, "root-admin") == []  # results of jobs they may see only
    assert fault_code(lambda: someone.results.refresh_query("broken-boots", "root-admin")) == 403
    assert fault_code(lambda: someone.results.refresh_all_queries()) == 403


def test_only_superusers_change_accounts(db, user):
    """A user who may view (or even change) users still cannot grant themselves anything."""
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user", "change_group"]))
    rpc = as_user(user)
    assert user.username in [u["username"] for u in rpc.auth.users.list()]
    assert fault_code(lambda: rpc.auth.users.update(user.username, None, None, None, None, None, True)) == 403
    assert fault_code(lambda: rpc.auth.users.perms.add(user.username, "auth", "user", "add_user")) == 403
    assert fault_code(lambda: rpc.auth.groups.add("mine")) == 403
    assert not User.objects.get(pk=user.pk).is_superuser
