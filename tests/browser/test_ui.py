"""The web UI in a real browser, against a live server and a real lab (master, scheduler, worker, lava-run).

The "board" is a local shell (tests/server/device-types/fake.jinja2): jobs run
for real, in seconds, without QEMU. Screenshots of the main pages are saved for CI.
"""


import pytest
import yaml
from django.contrib.auth.models import User

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from tests.browser.conftest import screenshots_dir
from tests.server.live_lab import LiveLab, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAKE_BOARD = "{% extends 'fake.jinja2' %}\n{% set connection_command = \"env PS1='fake-board# ' sh -i\" %}\n"
WORKER = "worker-browser"


def ticking_job(name: str = "browser job", visibility: str = "public", ticks: int = 6) -> str:
    """A job whose log grows for a few seconds, then reports results."""
    script = [
        {"name": "hello", "command": "echo hel''lo", "successes": [{"message": "hello"}]},
        {"name": "ticks", "command": f"for i in $(seq 1 {ticks}); do echo tick-$i; sleep 1; done; echo all''ticked",
         "successes": [{"message": "allticked"}]},
    ]
    return yaml.safe_dump(
        {
            "job_name": name,
            "device_type": "fake",
            "visibility": visibility,
            "timeouts": {"job": {"minutes": 3}, "action": {"seconds": ticks + 30}, "connection": {"seconds": ticks + 30}},
            "actions": [
                {"boot": {"method": "minimal", "reset": False, "prompts": ["fake-board# "]}},
                {"test": {"interactive": [{"name": "shell", "prompts": ["fake-board# "], "script": script}]}},
            ],
        },
        sort_keys=False,
    )


@pytest.fixture
def lab(django_db_setup, tmp_path, settings, live_server):
    # django_db_setup first: the test database must outlive the live server's connections
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    DeviceType.objects.create(name="fake")
    Worker.objects.create(hostname=WORKER)
    lab.add_dispatcher_config(WORKER)
    for hostname in ("fake-01", "fake-02"):
        device = Device.objects.create(hostname=hostname, device_type_id="fake", worker_host_id=WORKER)
        device.go_health(DeviceHealth.GOOD, "set up by the browser test")
        device.save()
        lab.write_dictionary(hostname, FAKE_BOARD)
    lab.start_master()
    lab.start_scheduler()
    lab.start_worker(WORKER)
    wait_for(lambda: Worker.objects.get(pk=WORKER).get_state_display() == "Online", 60, "worker online", lab)
    lab.url = live_server.url
    yield lab
    lab.stop_all()


@pytest.fixture
def users(db):
    return {
        name: User.objects.create_user(name, password=f"{name}-password", is_superuser=name == "admin",
                                       is_staff=name == "admin")
        for name in ("alice", "bob", "admin")
    }


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-password")
    page.click("button[type=submit]")
    page.wait_for_selector(f"nav .who:text-is('{username}')")


def shoot(page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)


def test_submit_watch_the_live_log_and_see_the_results(lab, users, browser_page):
    page = browser_page()
    log_in(page, lab.url, "alice")

    page.goto(f"{lab.url}/scheduler/jobsubmit")
    page.fill("#definition", ticking_job().replace("method: minimal", "method: magic"))
    page.click("button[value=submit]")
    page.wait_for_selector("#submit-errors")
    assert "unknown boot method 'magic'" in page.inner_text("#submit-errors")
    shoot(page, "submit-errors")
    assert not TestJob.objects.exists()

    page.fill("#definition", ticking_job())
    page.click("button[value=submit]")
    page.wait_for_url(f"{lab.url}/scheduler/job/*")
    job = TestJob.objects.get()
    assert page.url.endswith(f"/scheduler/job/{job.pk}")

    # the log grows while the job runs, without reloading the page
    page.wait_for_selector("#log .line:has-text('tick-1')", timeout=60_000)
    early = page.locator("#log .line").count()
    shoot(page, "job-running")
    page.wait_for_selector("#log .line:has-text('tick-4')", timeout=30_000)
    assert page.locator("#log .line").count() > early
    assert TestJob.objects.get(pk=job.pk).state == JobState.RUNNING or page.locator("#log .line").count() > early

    # the end: status, outcome and results appear in place
    page.wait_for_selector("#job-status .badge-complete", timeout=60_000)
    page.wait_for_selector("#results a:has-text('0_shell')")
    page.wait_for_selector("#outcome .outcome-good")
    assert TestJob.objects.get(pk=job.pk).get_health_display() == "Complete"
    assert "The job finished" in page.inner_text("#log-status")
    lines = page.locator("#log .line").count()
    assert lines == TestJob.objects.get(pk=job.pk).log_lines
    shoot(page, "job-finished")

    # level filters hide lines; line anchors highlight one
    page.uncheck("#log-levels input[value=target]")
    assert page.locator("#log .lvl-target").first.is_hidden()
    page.check("#log-levels input[value=target]")
    page.goto(f"{lab.url}/scheduler/job/{job.pk}#L3")
    page.wait_for_selector("#L3.target")

    page.goto(f"{lab.url}/results/{job.pk}")
    assert "0_shell" in page.inner_text("table")
    shoot(page, "results")
    page.goto(f"{lab.url}/results/{job.pk}/0_shell")
    assert "ticks" in page.inner_text("table") and "hello" in page.inner_text("table")

    page.goto(f"{lab.url}/")
    shoot(page, "overview")
    page.goto(f"{lab.url}/scheduler/jobs")
    assert "browser job" in page.inner_text("table")
    shoot(page, "jobs")


def test_device_and_worker_pages(lab, users, browser_page):
    (job,) = submit_job(ticking_job("keeps a board busy", ticks=90), users["admin"])
    wait_for(lambda: TestJob.objects.get(pk=job.pk).state == JobState.RUNNING, 60, "job running", lab)
    hostname = TestJob.objects.get(pk=job.pk).actual_device_id
    page = browser_page()
    log_in(page, lab.url, "admin")

    page.goto(f"{lab.url}/scheduler/devices")
    assert "fake-01" in page.inner_text("table") and "fake-02" in page.inner_text("table")
    shoot(page, "devices")
    page.click(f"a:text-is('{hostname}')")
    page.wait_for_url(f"{lab.url}/scheduler/device/{hostname}")
    assert page.inner_text("#current-job") == str(job.pk)
    history = page.inner_text("#history")
    assert "set up by the browser test" in history and f"running job {job.pk}" in history
    page.click("#configuration summary")
    assert "minimal" in page.inner_text("#configuration")
    shoot(page, "device")

    # an admin takes the other board out of service, with a reason kept in its history
    other = "fake-02" if hostname == "fake-01" else "fake-01"
    page.goto(f"{lab.url}/scheduler/device/{other}")
    page.select_option("select[name=health]", "Maintenance")
    page.fill("input[name=reason]", "cable swap")
    page.click("text=Set health")
    page.wait_for_selector("#history :text('cable swap')")
    assert Device.objects.get(pk=other).get_health_display() == "Maintenance"

    # with one board busy and the other in Maintenance, a new job says why it waits
    (waiting,) = submit_job(ticking_job("has to wait"), users["admin"])
    page.goto(f"{lab.url}/scheduler/job/{waiting.pk}")
    reason = page.inner_text("#queue-reason")
    assert "The only usable fake device is busy" in reason and "is in Maintenance" in reason
    shoot(page, "job-queued")
    page.click("#actions button:text-is('Cancel')")
    page.wait_for_selector("#job-status .badge-canceled")

    page.goto(f"{lab.url}/scheduler/workers")
    assert "Online" in page.inner_text("table")
    shoot(page, "workers")
    page.click(f"a:text-is('{WORKER}')")
    page.wait_for_url(f"{lab.url}/scheduler/worker/{WORKER}")
    assert "fake-01" in page.inner_text("main") and "fake-02" in page.inner_text("main")
    shoot(page, "worker")
    page.goto(f"{lab.url}/scheduler/device_types")
    shoot(page, "device-types")
    page.goto(f"{lab.url}/accounts/tokens/")
    page.fill("input[name=description]", "my lavacli")
    page.click("text=Create token")
    assert len(page.inner_text("#new-token-secret")) == 64
    shoot(page, "tokens")

    page.goto(f"{lab.url}/scheduler/job/{job.pk}")
    page.click("#actions button:text-is('Cancel')")
    wait_for(lambda: TestJob.objects.get(pk=job.pk).state == JobState.FINISHED, 60, "job canceled", lab)
    page.wait_for_selector("#job-status .badge-canceled", timeout=30_000)


def test_a_private_job_is_invisible_to_another_user(lab, users, browser_page):
    (secret,) = submit_job(ticking_job("alice's secret", visibility="personal", ticks=1), users["alice"])
    wait_for(lambda: TestJob.objects.get(pk=secret.pk).state == JobState.FINISHED, 90, "job finished", lab)

    alice = browser_page()
    log_in(alice, lab.url, "alice")
    alice.goto(f"{lab.url}/scheduler/jobs")
    assert "alice's secret" in alice.inner_text("table")

    bob = browser_page()
    log_in(bob, lab.url, "bob")
    for path in ("/scheduler/jobs", "/", f"/scheduler/device/{TestJob.objects.get(pk=secret.pk).actual_device_id}"):
        bob.goto(f"{lab.url}{path}")
        assert "alice's secret" not in bob.inner_text("main"), path
    assert bob.goto(f"{lab.url}/scheduler/job/{secret.pk}").status == 404
    assert bob.goto(f"{lab.url}/scheduler/job/{secret.pk}/log").status == 404
    assert bob.goto(f"{lab.url}/results/{secret.pk}/csv").status == 404
    anonymous = browser_page()
    anonymous.goto(f"{lab.url}/scheduler/job/{secret.pk}")
    assert "/accounts/login/" in anonymous.url
