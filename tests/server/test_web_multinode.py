"""The MultiNode group's page: members, roles, states and the messages their lava-run recorded."""

import pytest
import yaml

from lava_scheduler.results import models as results
from lava_scheduler.results.models import TestCase, TestSuite
from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import JobHealth, client_for, finish, make_job

web_lab, alice, bob = fixtures.web_lab, fixtures.alice, fixtures.bob

pytestmark = pytest.mark.django_db


def member(submitter, role: str, sub_id: str | None = None, public=True):
    job = make_job(submitter, f"{role} role", public=public, target_group="g1")
    definition = yaml.safe_load(job.definition)
    definition["protocols"] = {"lava-multinode": {"role": role, "target_group": "g1", "group_size": 2}}
    job.definition = yaml.safe_dump(definition)
    job.sub_id = sub_id or f"{job.pk}.0"
    job.save()
    return job


def record(job, case: str, extra: dict, result=results.TestResult.PASS):
    suite, _ = TestSuite.objects.get_or_create(job=job, name="lava")
    TestCase.objects.create(suite=suite, name=case, result=result,
                            metadata={"definition": "lava", "case": case, "extra": extra})


def test_group_page_lists_members_and_their_messages_in_order(web_lab, alice):
    server = member(alice, "server")
    client = member(alice, "client", f"{server.pk}.1")
    finish(server, JobHealth.COMPLETE)
    finish(client, JobHealth.INCOMPLETE, "MultinodeTimeout", "lava-wait never: no answer within 20 s")
    record(server, "multinode-send-ready", {"role": "server", "message_id": "ready", "origin": "test shell",
                                            "data": {"ip": "10.1.1.1"}})
    record(client, "multinode-wait-ready", {"role": "client", "message_id": "ready", "origin": "execute-qemu",
                                            "received": {str(server.pk): {"ip": "10.1.1.1"}}})
    record(client, "multinode-wait-all-never", {"role": "client", "message_id": "never", "waitrole": "server",
                                                "error": "no answer within 20 s"}, results.TestResult.FAIL)
    page = client_for(alice).get(f"/scheduler/job/{server.pk}.1/multinode")
    assert page.status_code == 200
    assert [(m["job"].pk, m["role"]) for m in page.context["members"]] == [(server.pk, "server"), (client.pk, "client")]
    calls = [(c["job"].pk, c["call"], c["message_id"], c["sent"], c["received"], c["result"])
             for c in page.context["calls"]]
    assert calls == [
        (server.pk, "lava-send", "ready", "ip=10.1.1.1", "", "pass"),
        (client.pk, "lava-wait", "ready", "", f"{server.pk}:ip=10.1.1.1", "pass"),
        (client.pk, "lava-wait-all", "never", "", "", "fail"),
    ]
    text = page.content.decode()
    assert "MultinodeTimeout" in text and "Incomplete" in text and "no answer within 20 s" in text
    # each sub-job's page links to the group's
    job_page = client_for(alice).get(f"/scheduler/job/{server.pk}.0").content.decode()
    assert f'href="/scheduler/job/{server.pk}.0/multinode"' in job_page


def test_group_page_hides_private_members_and_refuses_single_jobs(web_lab, alice, bob):
    server = member(alice, "server")
    member(alice, "client", f"{server.pk}.1", public=False)
    page = client_for(bob).get(f"/scheduler/job/{server.pk}/multinode")
    assert [m["role"] for m in page.context["members"]] == ["server"]
    assert client_for(bob).get(f"/scheduler/job/{server.pk}.1/multinode").status_code == 404
    single = make_job(alice, "alone")
    assert client_for(alice).get(f"/scheduler/job/{single.pk}/multinode").status_code == 404
