"""Writes through the web UI: submit, validate, cancel, resubmit; login and CSRF required."""

import pytest

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import client_for, definition, make_job

web_lab, alice, bob, admin_user = fixtures.web_lab, fixtures.alice, fixtures.bob, fixtures.admin_user
pytestmark = pytest.mark.django_db


def test_submit_needs_login(web_lab):
    answer = client_for(None).get("/scheduler/jobsubmit")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert client_for(None).post("/scheduler/jobsubmit", {"definition": definition()}).status_code == 302
    assert not TestJob.objects.exists()


def test_submit_a_job(web_lab, alice):
    client = client_for(alice)
    assert client.get("/scheduler/jobsubmit").status_code == 200
    answer = client.post("/scheduler/jobsubmit", {"definition": definition("from the web"), "action": "submit"})
    job = TestJob.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/scheduler/job/{job.pk}"
    assert job.submitter == alice and job.description == "from the web"


def test_validate_only_stores_nothing(web_lab, alice):
    answer = client_for(alice).post("/scheduler/jobsubmit", {"definition": definition(), "action": "validate"})
    assert answer.status_code == 200 and "The definition is valid" in answer.content.decode()
    assert not TestJob.objects.exists()
    noted = client_for(alice).post("/scheduler/jobsubmit", {"definition": definition() + "build_notes: x\n",
                                                             "action": "validate"})
    assert "The definition is valid" in noted.content.decode()
    assert "warning: build_notes: unknown key (ignored)" in noted.content.decode()


def test_errors_are_shown_beside_the_definition_with_their_line(web_lab, alice):
    text = definition().replace("method: minimal", "method: magic")
    answer = client_for(alice).post("/scheduler/jobsubmit", {"definition": text, "action": "submit"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "unknown boot method &#x27;magic&#x27;" in page
    (error,) = answer.context["errors"]
    assert text.splitlines()[error["line"] - 1].strip() == "method: magic"
    assert "method: magic" in page and "job_name: web test" in page  # the text is kept for editing
    assert not TestJob.objects.exists()


def test_yaml_and_lab_errors(web_lab, alice):
    client = client_for(alice)
    broken = client.post("/scheduler/jobsubmit", {"definition": "job_name: [x\n", "action": "validate"})
    assert broken.status_code == 400 and broken.context["errors"][0]["line"] == 2
    unknown_type = client.post("/scheduler/jobsubmit", {"definition": definition(device_type="nope")})
    assert unknown_type.status_code == 400
    assert "no device type or alias &#x27;nope&#x27;" in unknown_type.content.decode()
    huge = client.post("/scheduler/jobsubmit", {"definition": "x" * (1024 * 1024 + 1)})
    assert huge.status_code == 400 and "bigger than" in huge.content.decode()


def test_edit_and_submit_prefills_a_visible_job_only(web_lab, alice, bob):
    job = make_job(alice, "template job", public=False)
    assert "template job" in client_for(alice).get(f"/scheduler/jobsubmit?from={job.pk}").content.decode()
    assert "template job" not in client_for(bob).get(f"/scheduler/jobsubmit?from={job.pk}").content.decode()


def test_forms_need_a_csrf_token(web_lab, alice):
    client = client_for(alice, csrf=True)
    answer = client.post("/scheduler/jobsubmit", {"definition": definition()})
    assert answer.status_code == 403
    page = client.get("/scheduler/jobsubmit")
    token = page.context["csrf_token"]
    assert client.post("/scheduler/jobsubmit", {"definition": definition(), "csrfmiddlewaretoken": token}).status_code == 302
    job = TestJob.objects.get()
    assert client.post(f"/scheduler/job/{job.pk}/cancel").status_code == 403


def test_cancel(web_lab, alice, bob, admin_user):
    job = make_job(alice, "to cancel")
    assert client_for(None).post(f"/scheduler/job/{job.pk}/cancel").status_code == 302  # to the login page
    assert client_for(bob).post(f"/scheduler/job/{job.pk}/cancel").status_code == 404
    assert client_for(alice).get(f"/scheduler/job/{job.pk}/cancel").status_code == 405
    assert TestJob.objects.get(pk=job.pk).state == JobState.SUBMITTED
    page = client_for(alice).get(f"/scheduler/job/{job.pk}").content.decode()
    assert "Cancel" in page
    answer = client_for(alice).post(f"/scheduler/job/{job.pk}/cancel", follow=True)
    job.refresh_from_db()
    assert (job.state, job.health) == (JobState.FINISHED, JobHealth.CANCELED)
    assert "canceled by alice" in job.failure_comment
    assert f"Job {job.pk} canceled" in answer.content.decode()
    again = client_for(admin_user).post(f"/scheduler/job/{job.pk}/cancel", follow=True)
    assert "already Finished" in again.content.decode()


def test_cancel_a_running_job_goes_canceling(web_lab, alice):
    from lava_scheduler.lab.models import Device

    job = make_job(alice, "running")
    job.go_state_scheduled(Device.objects.get(pk="fake-01"))
    job.go_state_running()
    client_for(alice).post(f"/scheduler/job/{job.pk}/cancel")
    assert TestJob.objects.get(pk=job.pk).state == JobState.CANCELING


def test_resubmit(web_lab, alice, bob):
    job = make_job(alice, "again")
    assert client_for(bob).post(f"/scheduler/job/{job.pk}/resubmit").status_code == 404
    answer = client_for(alice).post(f"/scheduler/job/{job.pk}/resubmit")
    new = TestJob.objects.exclude(pk=job.pk).get()
    assert answer["Location"] == f"/scheduler/job/{new.pk}"
    assert new.metadata["job.original"].endswith(f"/scheduler/job/{job.pk}")


def test_resubmit_refused_says_why(web_lab, alice):
    job = make_job(alice, "gone type")
    TestJob.objects.filter(pk=job.pk).update(original_definition=definition(device_type="vanished"))
    answer = client_for(alice).post(f"/scheduler/job/{job.pk}/resubmit", follow=True)
    assert "Resubmission refused" in answer.content.decode() and "vanished" in answer.content.decode()
