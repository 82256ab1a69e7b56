"""Notifications from a job's ``notify:`` block, delivered to SMTP, IRC and HTTP peers.

The first test sends to Debian's aiosmtpd and ngircd; the others, about when
and whether something is sent, use the small in-process peers.
"""

import pytest
import yaml
from django.contrib.auth.models import User

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth
from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.lab.models import Device
from lava_scheduler.notifications import sender
from lava_scheduler.notifications.address_policy import AddressRefused, check_url
from lava_scheduler.notifications.models import DeliveryStatus, Notification
from tests.server import mail_irc_daemons
from tests.server.live_lab import LiveLab, free_port, wait_for
from tests.server.notification_peers import start_http_on, start_peers

TOKEN = "s3cret-callback-token"


@pytest.fixture
def peers():
    started = start_peers()
    yield started
    started.close()


@pytest.fixture
def mail_settings(settings, peers):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = peers.port("smtp")
    settings.DEFAULT_FROM_EMAIL = "lava@lab.example"
    settings.NOTIFICATION_RETRY_DELAYS = [0, 0]
    settings.CALLBACK_ALLOWED_NETWORKS = []
    return settings


def definition(notify: dict) -> str:
    return yaml.safe_dump({
        "job_name": "notified job",
        "device_type": "qemu",
        "visibility": "public",
        "timeouts": {"job": {"minutes": 10}},
        "actions": [
            {"deploy": {"to": "tmpfs", "images": {"rootfs": {"url": "file:///tmp/disk.img", "image_arg": "-hda {rootfs}"}}}},
            {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "]}},
        ],
        "notify": notify,
    }, sort_keys=False)


def run_job(user, device, notify: dict, health=JobHealth.COMPLETE) -> TestJob:
    (job,) = submit_job(definition(notify), user)
    job = TestJob.objects.get(pk=job.pk)
    job.go_state_scheduled(Device.objects.get(pk=device.pk))
    job.go_state_running()
    job.go_state_finished(health)
    return job


@pytest.fixture
def daemons(tmp_path, mail_settings):
    """aiosmtpd as the lab's SMTP server and ngircd with 'carol' logged in."""
    why = mail_irc_daemons.missing()
    if why:
        pytest.skip(why)
    smtp = mail_irc_daemons.SmtpDaemon(tmp_path)
    irc = mail_irc_daemons.IrcDaemon(tmp_path, "carol")
    mail_settings.EMAIL_PORT = smtp.port
    yield smtp, irc
    irc.close()
    smtp.close()


def statuses(job) -> list[tuple[str, int, int]]:
    return [(n.channel, n.status, n.attempts) for n in Notification.objects.filter(job=job)]


def test_mail_irc_and_callback_reach_their_peers(mail_settings, daemons, peers, user, device, client):
    smtp, irc = daemons
    mail_settings.CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    User.objects.create_user("bob", email="bob@lab.example")
    http = peers.port("http")
    notify = {
        "criteria": {"status": "finished"},
        "verbosity": "verbose",
        "recipients": [
            {"to": {"method": "email", "email": "team@lab.example"}},
            {"to": {"method": "email", "user": "bob"}},
            {"to": {"method": "irc", "handle": "carol", "server": f"127.0.0.1:{irc.port}"}},
        ],
        "callbacks": [
            {"url": f"http://127.0.0.1:{http}/done/{{ID}}?status={{STATUS_STRING}}", "method": "POST",
             "token": TOKEN, "header": "X-Lava-Token", "dataset": "all", "content-type": "json"},
            {"url": f"http://127.0.0.1:{http}/ping/{{ID}}", "token": TOKEN},
        ],
    }
    job = run_job(user, device, notify)
    assert [s for _, s, _ in statuses(job)] == [DeliveryStatus.PENDING] * 5

    assert sender.send_due() == 5
    assert [s for _, s, _ in statuses(job)] == [DeliveryStatus.SENT] * 5

    mails = smtp.mails
    assert sorted(r for mail in mails for r in mail.recipients) == ["bob@lab.example", "team@lab.example"]
    assert {mail.sender for mail in mails} == {"lava@lab.example"}
    mail = mails[0].message
    assert mail["Subject"] == f"[LAVA] job {job.pk} complete: notified job"
    assert mail["From"] == "lava@lab.example"
    body = mail.get_payload()
    assert f"Job {job.pk}: notified job" in body and "State: Finished, health: Complete" in body
    assert f"/scheduler/job/{job.pk}" in body

    wait_for(lambda: irc.messages, 10, "the IRC message", None, interval=0.05)
    ((nick, target, text),) = irc.messages
    assert nick.startswith("lava") and len(nick) <= 9 and target == "carol"
    assert text.startswith(f"job {job.pk} (notified job) Complete")

    post, get = sorted(peers.requests, key=lambda r: r.method, reverse=True)
    assert (post.method, post.path) == ("POST", f"/done/{job.pk}?status=complete")
    assert post.headers["X-Lava-Token"] == TOKEN
    payload = post.json()
    assert payload["id"] == str(job.pk) and payload["status_string"] == "complete" and payload["health_string"] == "Complete"
    assert payload["submitter"] == "alice" and payload["actual_device_id"] == "qemu-01"
    assert TOKEN not in payload["definition"] and "[MASKED]" in payload["definition"]
    assert "log" in payload and "results" in payload
    assert (get.method, get.path, get.headers["Authorization"]) == ("GET", f"/ping/{job.pk}", TOKEN)

    client.force_login(user)
    page = client.get(f"/scheduler/job/{job.pk}").content.decode()
    assert 'id="notifications"' in page and "team@lab.example" in page
    assert page.count("sent:") == 5 and "HTTP 200" in page


@pytest.mark.parametrize(("url", "why"), [
    ("http://[::1]/x", "loopback"),
    ("http://[::ffff:127.0.0.1]/x", "loopback"),
    ("http://[fe80::1]/x", "link-local"),
    ("http://192.168.1.1/x", "private"),
    ("http://0.0.0.0/x", "0.0.0.0, a private address"),
    ("http://224.0.0.1/x", "multicast"),
    ("http://user:pw@93.184.215.14/x", "credentials in the URL"),
    ("gopher://93.184.215.14/x", "only http and https"),
    ("http://93.184.215.14:99999/x", "out of range"),
])
def test_address_policy_refuses(settings, url, why):
    settings.CALLBACK_ALLOWED_HOSTS, settings.CALLBACK_ALLOWED_NETWORKS = [], []
    with pytest.raises(AddressRefused, match=why):
        check_url(url)


def test_address_policy_allows_public_and_listed_networks(settings):
    settings.CALLBACK_ALLOWED_HOSTS, settings.CALLBACK_ALLOWED_NETWORKS = [], ["10.0.0.0/8"]
    assert check_url("https://93.184.215.14:8443/hook?a=1").path == "/hook?a=1"
    assert check_url("http://10.1.2.3/internal").address == "10.1.2.3"
    settings.CALLBACK_ALLOWED_HOSTS = ["*.example.com"]
    with pytest.raises(AddressRefused, match="not in CALLBACK_ALLOWED_HOSTS"):
        check_url("http://10.1.2.3/internal")


def test_callback_to_a_refused_address_is_recorded_and_never_sent(mail_settings, peers, user, device, client):
    http = peers.port("http")
    notify = {
        "criteria": {"status": "complete"},
        "callbacks": [
            {"url": f"http://127.0.0.1:{http}/loopback"},
            {"url": f"http://localhost:{http}/by-name"},
            {"url": "http://169.254.169.254/latest/meta-data/"},
            {"url": "http://10.1.2.3/internal"},
            {"url": "file:///etc/passwd"},
        ],
    }
    job = run_job(user, device, notify)
    sender.send_due()
    assert [s for _, s, _ in statuses(job)] == [DeliveryStatus.REFUSED] * 5
    assert peers.requests == []
    details = [n.attempt_log.get().detail for n in Notification.objects.filter(job=job)]
    assert "a loopback address" in details[0] and "a loopback address" in details[1]
    assert "a link-local address" in details[2] and "a private address" in details[3]
    assert "only http and https" in details[4]
    client.force_login(user)
    assert client.get(f"/scheduler/job/{job.pk}").content.decode().count("refused:") == 5


def test_redirect_to_a_refused_address_is_checked_again(mail_settings, peers, user, device):
    mail_settings.CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    peers.http.redirects["/moved"] = "http://169.254.169.254/latest/meta-data/"
    job = run_job(user, device, {"criteria": {"status": "finished"},
                                 "callback": {"url": f"http://127.0.0.1:{peers.port('http')}/moved"}})
    sender.send_due()
    (notification,) = Notification.objects.filter(job=job)
    assert notification.status == DeliveryStatus.REFUSED
    assert "169.254.169.254" in notification.attempt_log.get().detail
    assert [r.path for r in peers.requests] == ["/moved"]


def test_host_allow_list(mail_settings, peers, user, device):
    mail_settings.CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    mail_settings.CALLBACK_ALLOWED_HOSTS = ["ci.example.com"]
    job = run_job(user, device, {"criteria": {"status": "finished"},
                                 "callback": {"url": f"http://127.0.0.1:{peers.port('http')}/x"}})
    sender.send_due()
    (notification,) = Notification.objects.filter(job=job)
    assert notification.status == DeliveryStatus.REFUSED
    assert "not in CALLBACK_ALLOWED_HOSTS" in notification.attempt_log.get().detail


def test_a_down_server_is_retried_and_every_attempt_shown(mail_settings, peers, user, device, client):
    mail_settings.CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    port = free_port()  # nothing listens there yet
    job = run_job(user, device, {"criteria": {"status": "finished"},
                                 "callback": {"url": f"http://127.0.0.1:{port}/later", "method": "POST"}})
    sender.send_due()
    sender.send_due()
    (notification,) = Notification.objects.filter(job=job)
    assert (notification.status, notification.attempts) == (DeliveryStatus.PENDING, 2)
    assert all("ConnectionRefusedError" in a.detail for a in notification.attempt_log.all())
    server = start_http_on(port, peers)
    try:
        sender.send_due()
    finally:
        server.shutdown()
        server.server_close()
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (DeliveryStatus.SENT, 3)
    assert [r.path for r in peers.requests] == ["/later"]
    client.force_login(user)
    page = client.get(f"/scheduler/job/{job.pk}").content.decode()
    assert page.count("error: ConnectionRefusedError") == 2 and page.count("sent:") == 1


def test_gives_up_after_the_last_retry(mail_settings, user, device):
    mail_settings.CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    mail_settings.NOTIFICATION_RETRY_DELAYS = [0]
    job = run_job(user, device, {"criteria": {"status": "finished"},
                                 "callback": {"url": f"http://127.0.0.1:{free_port()}/never"}})
    sender.send_due()
    sender.send_due()
    assert sender.send_due() == 0
    (notification,) = Notification.objects.filter(job=job)
    assert (notification.status, notification.attempts) == (DeliveryStatus.FAILED, 2)
    assert "gave up after 2 attempts" in notification.attempt_log.last().detail


def test_criteria_pick_the_moment_and_the_ending(mail_settings, user, device):
    user.email = "alice@lab.example"
    user.save()
    assert statuses(run_job(user, device, {"criteria": {"status": "incomplete"}})) == []
    assert len(statuses(run_job(user, device, {"criteria": {"status": "complete"}}))) == 1
    both = run_job(user, device, {"criteria": {"status": "all"}})
    assert [n.event for n in Notification.objects.filter(job=both)] == ["running", "finished"]
    running = run_job(user, device, {"criteria": {"status": "running"}})
    assert [n.event for n in Notification.objects.filter(job=running)] == ["running"]


def test_regression_and_progression_compare_with_the_previous_run(mail_settings, user, device):
    regression = {"criteria": {"status": "incomplete", "type": "regression"}}
    progression = {"criteria": {"status": "complete", "type": "progression"}}
    assert statuses(run_job(user, device, regression, JobHealth.INCOMPLETE)) == []  # no previous run
    assert statuses(run_job(user, device, progression, JobHealth.COMPLETE)) != []  # incomplete -> complete
    assert statuses(run_job(user, device, progression, JobHealth.COMPLETE)) == []  # complete -> complete
    assert statuses(run_job(user, device, regression, JobHealth.INCOMPLETE)) != []  # complete -> incomplete


def test_without_recipients_the_submitter_is_mailed(mail_settings, peers, user, device):
    user.email = "alice@lab.example"
    user.save()
    job = run_job(user, device, {"criteria": {"status": "finished"}, "verbosity": "status-only"})
    sender.send_due()
    assert statuses(job) == [("email", DeliveryStatus.SENT, 1)]
    assert peers.mails[0].recipients == ["alice@lab.example"]
    assert "Submitter" not in peers.mails[0].message.get_payload()


def test_unresolvable_recipients_are_failed_with_the_reason(mail_settings, user, device):
    job = run_job(user, device, {"criteria": {"status": "finished"}, "recipients": [
        {"to": {"method": "email", "user": "nobody"}},
        {"to": {"method": "irc", "handle": "carol"}},
    ]})
    rows = list(Notification.objects.filter(job=job))
    assert [n.status for n in rows] == [DeliveryStatus.FAILED] * 2
    assert rows[0].attempt_log.get().detail == "no user 'nobody'"
    assert "needs handle and server" in rows[1].attempt_log.get().detail
    assert sender.send_due() == 0


def test_unknown_url_placeholder_fails_without_retry(mail_settings, peers, user, device):
    mail_settings.CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    job = run_job(user, device, {"criteria": {"status": "finished"},
                                 "callback": {"url": f"http://127.0.0.1:{peers.port('http')}/{{NOPE}}"}})
    sender.send_due()
    (notification,) = Notification.objects.filter(job=job)
    assert notification.status == DeliveryStatus.FAILED
    assert "unknown placeholder {NOPE}" in notification.attempt_log.get().detail
    assert peers.requests == []


def test_the_token_stays_masked_for_other_users(mail_settings, user, device, client):
    job = run_job(user, device, {"criteria": {"status": "finished"},
                                 "callback": {"url": "https://ci.example.com/hook", "token": TOKEN}})
    client.force_login(User.objects.create_user("mallory"))
    page = client.get(f"/scheduler/job/{job.pk}").content.decode()
    assert TOKEN not in page and "https://ci.example.com/hook" in page
    client.force_login(user)
    assert TOKEN in client.get(f"/scheduler/job/{job.pk}").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_process_sends_notifications_beside_its_passes(tmp_path, settings, peers, user, device):
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    lab.env.update(LAVA_CALLBACK_ALLOWED_NETWORKS='["127.0.0.1/32"]', LAVA_NOTIFICATION_RETRY_DELAYS="[1]")
    lab.start_scheduler()
    try:
        job = run_job(user, device, {"criteria": {"status": "finished"}, "callback": {
            "url": f"http://127.0.0.1:{peers.port('http')}/from-scheduler/{{ID}}", "token": TOKEN}})
        wait_for(lambda: peers.requests, 30, "the callback", lab, interval=0.2)
        assert peers.requests[0].path == f"/from-scheduler/{job.pk}"
        wait_for(lambda: Notification.objects.get(job=job).status == DeliveryStatus.SENT, 10, "recorded", lab)
    finally:
        lab.stop_all()
