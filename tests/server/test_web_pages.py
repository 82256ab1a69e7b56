"""Web UI pages through the Django test client: what each page shows, to whom."""

import pytest

from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import (
    JobHealth,
    add_log,
    add_results,
    client_for,
    finish,
    log_lines,
    make_job,
)

web_lab, alice, bob, admin_user, team = fixtures.web_lab, fixtures.alice, fixtures.bob, fixtures.admin_user, fixtures.team

pytestmark = pytest.mark.django_db


def test_overview_shows_devices_queues_running_jobs_and_workers(web_lab, alice, bob):
    public = make_job(alice, "public running")
    private = make_job(alice, "secret running", public=False)
    from lava_scheduler.lab.models import Device

    for job, hostname in ((public, "fake-01"), (private, "fake-02")):
        job.go_state_scheduled(Device.objects.get(pk=hostname))
        job.go_state_running()
    make_job(alice, "queued one")
    page = client_for(bob).get("/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "public running" in text
    assert "secret running" not in text
    assert "worker-web" in text
    assert page.context["matrix"]["total"] == 2
    assert page.context["queued_total"] == 1
    assert page.context["workers_online"] == 1
    assert page.context["active_total"] == 2  # counts are not job data; the private job's row stays hidden
    assert "secret running" in client_for(alice).get("/").content.decode()


def test_jobs_list_shows_only_visible_jobs(web_lab, alice, bob, team):
    make_job(alice, "everyone's job")
    make_job(alice, "alice's own job", public=False)
    make_job(bob, "team job", public=False, groups=[team])
    anonymous = client_for(None).get("/scheduler/jobs").content.decode()
    assert "everyone&#x27;s job" in anonymous
    assert "alice&#x27;s own job" not in anonymous and "team job" not in anonymous
    as_bob = client_for(bob).get("/scheduler/jobs").content.decode()
    assert "alice&#x27;s own job" not in as_bob
    assert "team job" in as_bob  # its submitter
    as_alice = client_for(alice).get("/scheduler/jobs").content.decode()
    assert "alice&#x27;s own job" in as_alice and "team job" in as_alice  # submitter; member of the group


def test_jobs_list_filters(web_lab, alice):
    done = finish(make_job(alice, "done job"), JobHealth.COMPLETE)
    failed = finish(make_job(alice, "failed job"), JobHealth.INCOMPLETE)
    queued = make_job(alice, "queued job")
    client = client_for(alice)

    def ids(query: str) -> set[int]:
        return {job.pk for job in client.get(f"/scheduler/jobs?{query}").context["page"].items}

    assert ids("state=finished") == {done.pk, failed.pk}
    assert ids("health=incomplete") == {failed.pk}
    assert ids("state=Submitted") == {queued.pk}
    assert ids("q=FAILED") == {failed.pk}
    assert ids("submitter=alice") == {done.pk, failed.pk, queued.pk}
    assert ids("device_type=fake&state=finished&health=complete") == {done.pk}


def test_jobs_list_bad_filters_are_reported_not_crashed(web_lab, alice):
    make_job(alice, "x")
    page = client_for(alice).get("/scheduler/jobs?state=flying&submitter=nobody&kind=odd&page=zz")
    assert page.status_code == 200
    text = page.content.decode()
    assert "unknown JobState" in text and "no user &#x27;nobody&#x27;" in text and "unknown kind" in text


def test_jobs_list_pages_without_counting_everything(web_lab, alice):
    for index in range(30):
        make_job(alice, f"job {index}")
    client = client_for(alice)
    first = client.get("/scheduler/jobs").context["page"]
    assert len(first.items) == 25 and first.has_next and first.total == 30
    second = client.get("/scheduler/jobs?page=2").context["page"]
    assert len(second.items) == 5 and not second.has_next
    assert {j.pk for j in first.items}.isdisjoint({j.pk for j in second.items})
    from lava_scheduler.jobs.models import TestJob
    from lava_server.web.paging import paginate

    capped = paginate(TestJob.objects.order_by("id"), "1", per_page=5, count_cap=10)
    assert capped.total == 10 and capped.total_capped and capped.last_number is None


def test_job_page_of_a_finished_job(web_lab, alice):
    job = finish(make_job(alice, "broken boot"), JobHealth.INCOMPLETE, "InfrastructureError", "the board never booted")
    add_results(job, "lava", {"job": 1, "validate": 0})
    add_log(job, log_lines(5))
    page = client_for(None).get(f"/scheduler/job/{job.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    for expected in ("broken boot", "Incomplete", "InfrastructureError", "the board never booted", "5 lines",
                     "validate", "job_name: broken boot", f"/scheduler/job/{job.pk}/log"):
        assert expected in text, expected
    assert page.context["suites"] == [{"name": "lava", "pass": 1, "fail": 1, "skip": 0, "unknown": 0, "total": 2}]
    assert "Cancel" not in text  # anonymous: no changes offered


def test_job_page_of_a_queued_job_says_why_it_waits(web_lab, alice):
    from lava_scheduler.lab.models import Device
    from lava_scheduler.lab.states import DeviceHealth

    for device in Device.objects.all():
        device.go_health(DeviceHealth.MAINTENANCE, "firmware update")
        device.save()
    job = make_job(alice, "waiting")
    text = client_for(alice).get(f"/scheduler/job/{job.pk}").content.decode()
    assert "Why it waits" in text
    assert "No usable fake device" in text
    assert "fake-01</a> is in Maintenance" in text


def test_private_job_page_is_hidden(web_lab, alice, bob, team):
    job = make_job(alice, "secret", public=False)
    anonymous = client_for(None).get(f"/scheduler/job/{job.pk}")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert client_for(bob).get(f"/scheduler/job/{job.pk}").status_code == 404
    assert client_for(bob).get("/scheduler/job/999999").status_code == 404  # same answer as a missing job
    assert client_for(alice).get(f"/scheduler/job/{job.pk}").status_code == 200
    group_job = make_job(bob, "team work", public=False, groups=[team])
    assert client_for(alice).get(f"/scheduler/job/{group_job.pk}").status_code == 200
    for suffix in ("/definition", "/log", "/log/raw"):
        assert client_for(bob).get(f"/scheduler/job/{job.pk}{suffix}").status_code == 404, suffix
        assert client_for(None).get(f"/scheduler/job/{job.pk}{suffix}").status_code == 404, suffix


def test_multinode_sub_job_address(web_lab, alice):
    first = make_job(alice, "server role", target_group="g1")
    first.sub_id = f"{first.pk}.0"
    first.save()
    second = make_job(alice, "client role", target_group="g1", sub_id=f"{first.pk}.1")
    page = client_for(alice).get(f"/scheduler/job/{first.pk}.1")
    assert page.status_code == 200 and page.context["job"].pk == second.pk
    assert f"/scheduler/job/{first.pk}.0" in page.content.decode()


def test_definition_download(web_lab, alice):
    job = make_job(alice, "defined")
    answer = client_for(None).get(f"/scheduler/job/{job.pk}/definition")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    assert "job_name: defined" in answer.content.decode()


def test_devices_list_and_current_jobs(web_lab, alice, bob):
    from lava_scheduler.lab.models import Device

    secret = make_job(alice, "secret", public=False)
    secret.go_state_scheduled(Device.objects.get(pk="fake-01"))
    page = client_for(bob).get("/scheduler/devices")
    assert page.status_code == 200
    text = page.content.decode()
    assert "fake-01" in text and "fake-02" in text and "private job" in text
    assert f"/scheduler/job/{secret.pk}" not in text
    assert f"/scheduler/job/{secret.pk}" in client_for(alice).get("/scheduler/devices").content.decode()
    filtered = client_for(bob).get("/scheduler/devices?state=reserved").context["page"].items
    assert [d.hostname for d in filtered] == ["fake-01"]
    assert "unknown DeviceHealth" in client_for(bob).get("/scheduler/devices?health=shiny").content.decode()


def test_device_page_history_and_configuration(web_lab, alice, admin_user):
    anonymous = client_for(None).get("/scheduler/device/fake-01")
    assert anonymous.status_code == 200
    text = anonymous.content.decode()
    assert "test setup" in text  # the reason of the Maintenance -> Good transition
    assert "only those who may change devices see it" in text
    logged_in = client_for(alice).get("/scheduler/device/fake-01").content.decode()
    # power commands and credentials: a user without the right to change devices does not see them
    assert "only those who may change devices see it" in logged_in and "minimal" not in logged_in
    assert "Change health" not in logged_in  # alice may not change devices
    admin = client_for(admin_user).get("/scheduler/device/fake-01").content.decode()
    assert "connection_command" in admin or "minimal" in admin  # the rendered configuration
    assert client_for(None).get("/scheduler/device/nope").status_code == 404


def test_device_page_shows_a_configuration_error(web_lab, admin_user, settings):
    (settings.DEVICES_PATH / "fake-02.jinja2").write_text("{% extends 'no-such-type.jinja2' %}\n")
    page = client_for(admin_user).get("/scheduler/device/fake-02")
    assert page.status_code == 200
    assert "no-such-type" in page.content.decode()


def test_device_health_change_needs_permission_and_records_why(web_lab, alice, admin_user):
    from lava_scheduler.lab.models import Device, DeviceTransition

    assert client_for(None).post("/scheduler/device/fake-01/health", {"health": "bad"}).status_code == 302
    assert client_for(alice).post("/scheduler/device/fake-01/health", {"health": "bad"}).status_code == 403
    admin = client_for(admin_user)
    assert "Change health" in admin.get("/scheduler/device/fake-01").content.decode()
    answer = admin.post("/scheduler/device/fake-01/health", {"health": "Maintenance", "reason": "new cable"})
    assert answer.status_code == 302
    assert Device.objects.get(pk="fake-01").get_health_display() == "Maintenance"
    transition = DeviceTransition.objects.filter(device_id="fake-01").first()
    assert transition.reason == "new cable" and transition.user == admin_user
    assert "new cable" in admin.get("/scheduler/device/fake-01").content.decode()
    bad = admin.post("/scheduler/device/fake-01/health", {"health": "sparkly"}, follow=True)
    assert "unknown DeviceHealth" in bad.content.decode()


def test_device_types_and_workers(web_lab, alice, bob, settings):
    settings.HEALTH_CHECKS_PATH.mkdir()
    (settings.HEALTH_CHECKS_PATH / "fake.yaml").write_text("job_name: fake health check\n")
    make_job(alice, "queued public")
    make_job(alice, "queued secret", public=False)
    types = client_for(bob).get("/scheduler/device_types")
    assert types.status_code == 200 and "fake" in types.content.decode()
    page = client_for(bob).get("/scheduler/device_type/fake").content.decode()
    assert "queued public" in page and "queued secret" not in page
    assert "fake health check" in page
    assert client_for(bob).get("/scheduler/device_type/none").status_code == 404
    workers = client_for(None).get("/scheduler/workers").content.decode()
    assert "worker-web" in workers and "Online" in workers
    worker = client_for(None).get("/scheduler/worker/worker-web").content.decode()
    assert "fake-01" in worker and "fake-02" in worker
    assert client_for(None).get("/scheduler/worker/none").status_code == 404


def test_login_required_setting_closes_every_page(web_lab, alice, settings):
    job = make_job(alice, "public but closed")
    settings.LAVA = dict(settings.LAVA, LOGIN_REQUIRED=True)
    for path in ("/", "/scheduler/jobs", f"/scheduler/job/{job.pk}", f"/scheduler/job/{job.pk}/log",
                 "/scheduler/devices", "/scheduler/device/fake-01", "/scheduler/device_types", "/scheduler/workers",
                 f"/results/{job.pk}", f"/results/{job.pk}/csv"):
        answer = client_for(None).get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/"), path
        assert client_for(alice).get(path).status_code == 200, path
    assert client_for(None).get("/accounts/login/").status_code == 200
