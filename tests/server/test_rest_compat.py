"""REST v0.2 beyond the basics: TAP13, batch cancel, test-definition checks, suite exports, worker files,
users, groups, group permissions, API and remote artifact tokens, and the OpenAPI schema describing them."""

import json

import pytest
import yaml
from django.contrib.auth.models import Permission, User

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.permissions.models import GroupDevicePermission
from lava_scheduler.results.models import TestCase, TestSuite
from lava_server.accounts.models import AuthToken
from tests.server.test_rest import API, client
from tests.server.test_xmlrpc import Lab

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.DISPATCHER_D = tmp_path / "dispatcher.d"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return Lab(device)


def post(lab, username, path, data):
    return client(lab, username).post(f"{API}/{path}", json.dumps(data), content_type="application/json")


def test_tap13_and_suite_exports(lab):
    job = lab.public
    LogStore(job_output_dir(job)).append(
        [f'- {{"dt": "2026-01-01T00:00:00", "lvl": "target", "msg": "line {i}"}}' for i in range(5)]
    )
    suite = TestSuite.objects.create(job=job, name="0_smoke")
    TestCase.objects.create(suite=suite, name="boot", result=0)
    TestCase.objects.create(suite=suite, name="net#1", result=1, start_log_line=1, end_log_line=2)
    TestCase.objects.create(suite=suite, name="usb", result=2)
    TestCase.objects.create(suite=suite, name="speed", result=3, measurement="12.5", units="MB/s")
    tap = client().get(f"{API}/jobs/{job.pk}/tap13/").content.decode()
    lines = tap.splitlines()
    assert lines[:4] == ["TAP version 13", "1..4", "# 0_smoke", "ok 1 - 0_smoke.boot"]
    assert "not ok 2 - 0_smoke.net\\#1" in lines and "ok 3 - 0_smoke.usb # SKIP" in lines
    assert "ok 4 - 0_smoke.speed # TODO result unknown" in lines
    diagnostics = tap.split("not ok 2 - 0_smoke.net\\#1\n")[1].split("  ...\n")[0]
    assert yaml.safe_load(diagnostics.replace("  ---\n", ""))["log"] == "line 1\nline 2"
    assert "measurement: '12.5'" in tap and "unit: MB/s" in tap
    assert client().get(f"{API}/jobs/{lab.private.pk}/tap13/").status_code == 404
    # one suite: by id (the reference's URLs) or by name
    by_id = client().get(f"{API}/jobs/{job.pk}/suites/{suite.pk}/csv/").content.decode()
    assert by_id.splitlines()[0].startswith("name,job,suite") and len(by_id.splitlines()) == 5
    rows = yaml.safe_load(client().get(f"{API}/jobs/{job.pk}/suites/0_smoke/yaml/").content)
    assert [r["name"] for r in rows] == ["boot", "net#1", "usb", "speed"]
    page = client().get(f"{API}/jobs/{job.pk}/suites/0_smoke/tests/?limit=2&offset=1").json()
    assert [r["name"] for r in page["results"]] == ["net#1", "usb"] and page["count"] == 4
    assert client().get(f"{API}/jobs/{job.pk}/suites/nope/csv/").status_code == 404
    assert client().get(f"{API}/jobs/{job.pk}/suites/0_smoke/tests/?limit=x").status_code == 400


def test_batch_cancel(lab):
    other = lab.job(lab.bob, True, "bob's job")
    answer = post(lab, "alice", "jobs/batch_cancel/", {"job_ids": [lab.public.pk, lab.private.pk, other.pk, 99999]})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert sorted(body["canceled"]) == sorted([lab.public.pk, lab.private.pk])
    assert "may not cancel" in body["errors"][str(other.pk)] and body["errors"]["99999"] == "not found"
    assert TestJob.objects.get(pk=lab.public.pk).health == JobHealth.CANCELED
    assert TestJob.objects.get(pk=other.pk).health != JobHealth.CANCELED
    assert post(lab, "alice", "jobs/batch_cancel/", {"job_ids": "12"}).status_code == 400
    assert post(lab, "alice", "jobs/batch_cancel/", {"job_ids": []}).status_code == 400
    assert client().post(f"{API}/jobs/batch_cancel/", {"job_ids": [1]}).status_code == 401


def test_validate_testdef(lab):
    good = {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke", "description": "d"},
            "run": {"steps": ["uname -a"]}}
    answer = client().post(f"{API}/jobs/validate_testdef/", {"test_def": yaml.safe_dump(good)})
    assert answer.json() == {"message": "Test definition valid.", "errors": []}
    bad = {"metadata": {"format": "Lava-Test Test Definition 2.0"}, "run": {"steps": "uname"}}
    errors = client().post(f"{API}/jobs/validate_testdef/", {"test_def": yaml.safe_dump(bad)}).json()["errors"]
    assert {e["path"] for e in errors} >= {"metadata.format"} and all(e["msg"] for e in errors)
    broken = client().post(f"{API}/jobs/validate_testdef/", {"test_def": "metadata: [unclosed"}).json()
    assert broken["message"].startswith("not valid YAML") and broken["errors"]
    assert client().post(f"{API}/jobs/validate_testdef/", {}).status_code == 400


def test_worker_config_and_env(lab, worker, settings):
    path = f"workers/{worker.hostname}"
    assert client(lab, "admin").get(f"{API}/{path}/config/").status_code == 404
    assert post(lab, "admin", f"{path}/config/", {"config": "dispatcher_ip: 192.0.2.7\n"}).status_code == 200
    assert client(lab, "admin").get(f"{API}/{path}/config/").content == b"dispatcher_ip: 192.0.2.7\n"
    assert post(lab, "admin", f"{path}/env-dut/", {"config": "overrides: {LANG: C}\n"}).status_code == 200
    assert (settings.DISPATCHER_D / worker.hostname / "env-dut.yaml").exists()
    refused = post(lab, "admin", f"{path}/env/", {"config": "- a list\n"})
    assert refused.status_code == 400 and "mapping" in str(refused.json()["config"])
    assert post(lab, "admin", f"{path}/config/", {"config": ""}).json()["message"] == "dispatcher.yaml deleted"
    # secrets may live there: nobody else reads or writes them
    assert client(lab, "alice").get(f"{API}/{path}/env-dut/").status_code == 403
    assert client().get(f"{API}/{path}/env-dut/").status_code == 401
    assert client(lab, "admin").get(f"{API}/workers/nope/config/").status_code == 404


def test_users_groups_and_permissions(lab):
    created = post(lab, "admin", "users/", {"username": "erin", "email": "erin@example.com", "groups": ["team"]})
    assert created.status_code == 201, created.content
    erin = User.objects.get(username="erin")
    assert not erin.has_usable_password() and erin.groups.filter(name="team").exists()
    assert client(lab, "admin").get(f"{API}/users/erin/").json()["groups"] == ["team"]
    listed = client(lab, "admin").get(f"{API}/groups/").json()["results"]
    assert {"name": "team", "users": ["alice", "erin"]}.items() <= listed[0].items()
    assert client(lab, "alice").get(f"{API}/users/").status_code == 403
    # the right to change users is not enough to change them: only superusers grant rights
    lab.alice.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    assert client(lab, "alice").get(f"{API}/users/alice/").status_code == 200
    escalate = client(lab, "alice").patch(f"{API}/users/alice/", json.dumps({"is_superuser": True}),
                                          content_type="application/json")
    assert escalate.status_code == 403 and not User.objects.get(username="alice").is_superuser
    assert post(lab, "alice", "groups/", {"name": "mine"}).status_code == 403
    rule = post(lab, "admin", "permissions/devices/",
                {"group": "team", "device": lab.device.hostname, "permission": "submit_to_device"})
    assert rule.status_code == 201, rule.content
    assert GroupDevicePermission.objects.get().group.name == "team"
    wrong = post(lab, "admin", "permissions/devicetypes/", {"group": "team", "devicetype": "qemu", "permission": "fly"})
    assert wrong.status_code == 400 and "permission" in wrong.json()
    assert post(lab, "admin", "permissions/devicetypes/",
                {"group": "team", "devicetype": "qemu", "permission": "view_devicetype"}).status_code == 201
    assert client(lab, "admin").get(f"{API}/permissions/devicetypes/").json()["results"][0]["devicetype"] == "qemu"


def test_api_and_remote_artifact_tokens(lab):
    lab.alice.set_password("alice-password")
    lab.alice.save()
    obtained = client().post(f"{API}/token/", {"username": "alice", "password": "alice-password"})
    assert obtained.status_code == 200, obtained.content
    secret = obtained.json()["token"]
    assert client().get(f"{API}/system/whoami/", HTTP_AUTHORIZATION=f"Token {secret}").json()["user"] == "alice"
    assert client().post(f"{API}/token/", {"username": "alice", "password": "nope"}).status_code in (401, 403)
    made = post(lab, "alice", "tokens/", {"description": "CI"})
    assert made.status_code == 201 and made.json()["token"] and made.json()["description"] == "CI"
    listed = client(lab, "alice").get(f"{API}/tokens/").json()["results"]
    assert {t["description"] for t in listed} >= {"CI"} and all("token" not in t for t in listed)
    assert client(lab, "alice").delete(f"{API}/tokens/{made.json()['id']}/").status_code == 204
    assert not AuthToken.objects.filter(pk=made.json()["id"]).exists()
    bobs = AuthToken.objects.filter(user=lab.bob).first()
    assert client(lab, "alice").delete(f"{API}/tokens/{bobs.pk}/").status_code == 404
    # remote artifact tokens: the caller's own
    assert post(lab, "alice", "remote-artifact-tokens/", {"name": "gitlab", "token": "glpat-1"}).status_code == 201
    again = post(lab, "alice", "remote-artifact-tokens/", {"name": "gitlab", "token": "glpat-2"})
    assert again.status_code == 400 and "already" in again.json()["name"][0]
    assert post(lab, "bob", "remote-artifact-tokens/", {"name": "gitlab", "token": "bob's"}).status_code == 201
    mine = client(lab, "alice").get(f"{API}/remote-artifact-tokens/").json()["results"]
    assert [(t["name"], t["token"]) for t in mine] == [("gitlab", "glpat-1")]


def test_the_schema_describes_the_new_endpoints(lab):
    schema = client().get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/v0.2/jobs/{id}/tap13/", "/api/v0.2/jobs/batch_cancel/", "/api/v0.2/jobs/validate_testdef/",
                 "/api/v0.2/users/", "/api/v0.2/groups/", "/api/v0.2/permissions/devices/",
                 "/api/v0.2/permissions/devicetypes/", "/api/v0.2/tokens/", "/api/v0.2/token/",
                 "/api/v0.2/remote-artifact-tokens/"):
        assert path in schema["paths"], path
    assert any("suites" in p and "csv|yaml|tests" in p or "{fmt}" in p for p in schema["paths"])
    assert any("{kind}" in p for p in schema["paths"])
