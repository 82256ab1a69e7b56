"""REST API v0.2: token auth, anonymous read-only, jobs, lab objects, exports, schema, visibility."""

import pytest
import yaml
from django.test import Client

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, Tag
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.models import TestCase, TestSuite
from tests.server.test_xmlrpc import Lab, job_text

pytestmark = pytest.mark.django_db

API = "/api/v0.2"


@pytest.fixture
def lab(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    settings.DEVICE_TYPES_PATHS = [tmp_path / "device-types", *settings.DEVICE_TYPES_PATHS]
    return Lab(device)


def client(lab: Lab | None = None, username: str | None = None) -> Client:
    if username is None:
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Token {lab.tokens[username]}")


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {job["id"] for job in response.json()["results"]}


def test_system_version_whoami_and_wrong_token(lab):
    assert client().get(f"{API}/system/version/").json()["version"].startswith("20")
    assert client().get(f"{API}/system/whoami/").json() == {"user": None}
    assert client(lab, "bob").get(f"{API}/system/whoami/").json() == {"user": "bob"}
    wrong = Client(HTTP_AUTHORIZATION="Token nope").get(f"{API}/jobs/")
    assert wrong.status_code == 401 and "Token" in wrong["WWW-Authenticate"]


def test_jobs_list_is_paginated_and_filtered(lab):
    for index in range(3):
        job = lab.job(lab.bob, True, f"bulk {index}")
        job.metadata = {"build": str(index), "branch": "main" if index else "next"}
        job.save()
    page = client().get(f"{API}/jobs/?limit=2").json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert page["results"][0]["description"] == "bulk 2" and page["results"][0]["state"] == "Submitted"
    assert len(ids(client().get(f"{API}/jobs/?submitter=bob"))) == 3
    assert len(ids(client().get(f"{API}/jobs/?state=Submitted&health=UNKNOWN&requested_device_type=qemu"))) == 4
    assert ids(client().get(f"{API}/jobs/?state=finished")) == set()
    assert len(ids(client().get(f"{API}/jobs/?metadata__branch=main"))) == 2
    assert len(ids(client().get(f"{API}/jobs/?metadata__build__in=0,1"))) == 2
    assert len(ids(client().get(f"{API}/jobs/?metadata__has_key=build"))) == 3
    assert client().get(f"{API}/jobs/?state=nope").status_code == 400
    assert client().get(f"{API}/jobs/?bogus=1").status_code == 400


def test_submit_validate_cancel_resubmit(lab):
    assert client().post(f"{API}/jobs/", {"definition": job_text()}, content_type="application/json").status_code == 401
    response = client(lab, "bob").post(f"{API}/jobs/", {"definition": job_text("rest job")},
                                       content_type="application/json")
    assert response.status_code == 201, response.content
    (job_id,) = response.json()["job_ids"]
    bad = client(lab, "bob").post(f"{API}/jobs/", {"definition": job_text(device_type="nope")},
                                  content_type="application/json")
    assert bad.status_code == 400 and "device_type" in bad.json()["message"]
    valid = client().post(f"{API}/jobs/validate/", {"definition": job_text()}, content_type="application/json")
    assert valid.json()["errors"] == [] and valid.json()["warnings"] == []
    noted = client().post(f"{API}/jobs/validate/", {"definition": job_text() + "build_notes: from CI\n"},
                          content_type="application/json")
    assert noted.json()["errors"] == []
    assert noted.json()["warnings"] == [{"path": "build_notes", "msg": "unknown key (ignored)"}]
    broken = client().post(f"{API}/jobs/validate/", {"definition": "job_name: x\n"}, content_type="application/json")
    assert broken.json()["errors"]
    assert client(lab, "alice").post(f"{API}/jobs/{job_id}/cancel/").status_code == 403
    assert client(lab, "bob").post(f"{API}/jobs/{job_id}/cancel/").status_code == 200
    assert TestJob.objects.get(pk=job_id).state == JobState.FINISHED
    again = client(lab, "bob").post(f"{API}/jobs/{job_id}/resubmit/")
    assert again.status_code == 201 and again.json()["job_ids"][0] != job_id
    detail = client().get(f"{API}/jobs/{job_id}/").json()
    assert detail["health"] == "Canceled" and "rest job" in detail["definition"]


def test_logs_and_result_exports(lab):
    job = lab.public
    LogStore(job_output_dir(job)).append(
        [f'- {{"dt": "2026-01-01T00:00:00", "lvl": "target", "msg": "line {i}"}}' for i in range(6)]
    )
    suite = TestSuite.objects.create(job=job, name="0_smoke")
    TestCase.objects.create(suite=suite, name="ok", result=0, metadata={"duration": "1.5"})
    TestCase.objects.create(suite=suite, name="bad", result=1, metadata={}, start_log_line=2, end_log_line=3)
    logs = client().get(f"{API}/jobs/{job.pk}/logs/?start=2&end=4")
    assert [r["msg"] for r in yaml.safe_load(logs.content)] == ["line 2", "line 3"]
    assert logs["X-Log-Finished"] == "false"
    csv_text = client().get(f"{API}/jobs/{job.pk}/csv/").content.decode()
    assert csv_text.splitlines()[0].startswith("name,job,suite,result") and "bad" in csv_text
    rows = yaml.safe_load(client().get(f"{API}/jobs/{job.pk}/yaml/").content)
    assert [(r["name"], r["result"]) for r in rows] == [("ok", "pass"), ("bad", "fail")]
    junit = client().get(f"{API}/jobs/{job.pk}/junit/").content.decode()
    assert '<testsuite name="0_smoke" tests="2" failures="1"' in junit
    assert 'time="1.5"' in junit and "line 2\nline 3" in junit
    assert client().get(f"{API}/jobs/{job.pk}/suites/").json()[0]["name"] == "0_smoke"
    assert len(client().get(f"{API}/jobs/{job.pk}/tests/?suite=0_smoke").json()["results"]) == 2


def test_private_job_is_invisible_through_rest(lab):
    LogStore(job_output_dir(lab.private)).append(['- {"dt": "x", "lvl": "info", "msg": "secret"}'])
    for who in (None, "bob"):
        c = client(lab, who)
        assert ids(c.get(f"{API}/jobs/")) == {lab.public.pk}
        assert ids(c.get(f"{API}/jobs/?submitter=alice")) == {lab.public.pk}
        assert ids(c.get(f"{API}/jobs/?search=secret")) == set()
        for job in (lab.private, lab.grouped):
            for suffix in ("", "logs/", "csv/", "yaml/", "junit/", "metadata/", "suites/", "tests/"):
                assert c.get(f"{API}/jobs/{job.pk}/{suffix}").status_code == 404, suffix
    assert client(lab, "bob").post(f"{API}/jobs/{lab.private.pk}/cancel/").status_code == 404
    assert ids(client(lab, "alice").get(f"{API}/jobs/")) == {lab.public.pk, lab.private.pk, lab.grouped.pk}


def test_devices_dictionary_and_health(lab):
    devices = client().get(f"{API}/devices/").json()["results"]
    assert devices[0]["hostname"] == "qemu-01" and devices[0]["health"] == "Unknown"
    text = "{% extends 'qemu.jinja2' %}\n"
    url = f"{API}/devices/qemu-01/dictionary/"
    assert client(lab, "bob").post(url, {"dictionary": text}, content_type="application/json").status_code == 403
    assert client(lab, "admin").post(url, {"dictionary": text}, content_type="application/json").status_code == 200
    # power commands and credentials: the right to change devices is needed to read them
    assert client().get(url).status_code == 401 and client(lab, "bob").get(url).status_code == 403
    assert client(lab, "admin").get(url).json()["dictionary"] == text
    assert "actions" in yaml.safe_load(client(lab, "admin").get(url + "?render=true").json()["dictionary"])
    response = client(lab, "admin").post(f"{API}/devices/qemu-01/set_health/", {"health": "MAINTENANCE",
                                         "reason": "cable"}, content_type="application/json")
    assert response.json()["health"] == "Maintenance"
    assert Device.objects.get(pk="qemu-01").transitions.first().reason == "cable"
    assert client().post(f"{API}/devices/qemu-01/set_health/", {"health": "GOOD"}).status_code == 401


def test_device_types_workers_tags_aliases(lab):
    assert client().get(f"{API}/devicetypes/").json()["results"][0]["name"] == "qemu"
    template = client().get(f"{API}/devicetypes/qemu/template/")
    assert template.status_code == 200 and b"extends" in template.content
    hc = f"{API}/devicetypes/qemu/health_check/"
    assert client().get(hc).status_code == 404
    assert client(lab, "admin").post(hc, {"content": job_text()}, content_type="application/json").status_code == 200
    assert b"api job" in client().get(hc).content
    worker = client().get(f"{API}/workers/worker-1/").json()
    assert worker["state"] == "Online" and worker["health"] == "Active"
    assert client(lab, "admin").post(f"{API}/workers/worker-1/set_health/", {"health": "Maintenance"},
                                     content_type="application/json").json()["health"] == "Maintenance"
    assert client(lab, "bob").post(f"{API}/tags/", {"name": "usb"}).status_code == 403
    assert client(lab, "admin").post(f"{API}/tags/", {"name": "usb", "description": "USB"}).status_code == 201
    assert Tag.objects.filter(name="usb").exists()
    assert client(lab, "admin").post(f"{API}/aliases/", {"name": "kvm", "device_type": "qemu"}).status_code == 201
    assert client().get(f"{API}/aliases/kvm/").json() == {"name": "kvm", "device_type": "qemu"}


def test_openapi_schema_is_served(lab):
    response = client().get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:500]
    schema = response.json()
    assert schema["openapi"].startswith("3.") and "/api/v0.2/jobs/" in schema["paths"]
    assert "/api/v0.2/jobs/{id}/logs/" in schema["paths"]
