"""Smaller holes: private jobs in device history, REST write permissions, formulas in CSV exports."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device, Tag
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.results.models import TestCase, TestSuite
from lava_scheduler.results.models import TestResult as CaseResult
from lava_server.accounts.models import AuthToken
from tests.server.test_xmlrpc import Lab

pytestmark = pytest.mark.django_db

API = "/api/v0.2"


@pytest.fixture
def lab(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.HEALTH_CHECKS_PATH = tmp_path / "health-checks"
    settings.DISPATCHER_D = tmp_path / "dispatcher.d"
    settings.DEVICE_TYPES_PATHS = [tmp_path / "device-types", *settings.DEVICE_TYPES_PATHS]
    return Lab(device)


def web(lab: Lab, username: str | None) -> Client:
    client = Client()
    if username is not None:
        client.force_login(User.objects.get(username=username))
    return client


def rest(lab: Lab, username: str | None) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {lab.tokens[username]}") if username else Client()


# c. the device's history


def run_on_device(job: TestJob, device: Device) -> None:
    """The device's side of a job that ran and ended, as the scheduler and master record it."""
    TestJob.objects.filter(pk=job.pk).update(actual_device=device, state=JobState.FINISHED)
    for step in (device.go_state_reserved, device.go_state_running, device.go_state_idle):
        step(job)
        device.save()
    device.go_health(DeviceHealth.GOOD, f"health-check job {job.pk} complete", job=job)
    device.last_health_report_job = job
    device.save()


READERS = [  # (reader, may see alice's personal job, may see the team's job)
    (None, False, False), ("bob", False, False), ("alice", True, True), ("admin", True, True),
]


@pytest.mark.parametrize("reader,sees_private,sees_grouped", READERS)
def test_device_history_names_only_the_jobs_the_reader_may_see(lab, reader, sees_private, sees_grouped):
    for job in (lab.public, lab.private, lab.grouped):
        run_on_device(job, lab.device)
    page = web(lab, reader).get(f"/scheduler/device/{lab.device.hostname}").content.decode()
    history = page[page.index('id="history"'):]
    assert f"reserved for job {lab.public.pk}" in history
    for job, visible in ((lab.private, sees_private), (lab.grouped, sees_grouped)):
        assert (f"reserved for job {job.pk}" in history) == visible
        assert (f"/scheduler/job/{job.pk}\"" in page) == visible
    # the change itself stays: the device was busy, with some job
    assert history.count("reserved for a private job") == (not sees_private) + (not sees_grouped)
    assert ("private job" in page[: page.index('id="history"')]) != sees_grouped  # last health check


def test_a_team_member_sees_the_team_job_in_the_history(lab):
    member = User.objects.create_user("carol")
    member.groups.add(lab.team)
    run_on_device(lab.grouped, lab.device)
    history = web(lab, "carol").get(f"/scheduler/device/{lab.device.hostname}").content.decode()
    assert f"running job {lab.grouped.pk}" in history


def test_apis_do_not_name_a_private_job_running_on_a_device(lab):
    TestJob.objects.filter(pk=lab.private.pk).update(state=JobState.RUNNING, actual_device=lab.device)
    hostname = lab.device.hostname
    for reader in (None, "bob"):
        assert lab.rpc(reader).scheduler.devices.show(hostname)["current_job"] is None
        listed = {d["hostname"]: d for d in lab.rpc(reader).scheduler.devices.list()}
        assert listed[hostname]["current_job"] is None
        answer = rest(lab, reader).get(f"{API}/devices/{hostname}/").content.decode()
        assert str(lab.private.pk) not in answer
    assert lab.rpc("alice").scheduler.devices.show(hostname)["current_job"] == lab.private.pk


# d. REST writes need the permission of what they do


def user_with(lab: Lab, *codenames: str) -> str:
    user = User.objects.create_user("-".join(codenames))
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    lab.tokens[user.username] = AuthToken.objects.create(user=user).secret
    return user.username


def test_rest_create_change_and_delete_each_need_their_own_permission(lab):
    tag = Tag.objects.create(name="usb")
    changer = user_with(lab, "change_tag")
    adder = user_with(lab, "add_tag")
    deleter = user_with(lab, "delete_tag")
    create = {"name": "new", "description": ""}
    assert rest(lab, changer).post(f"{API}/tags/", create, content_type="application/json").status_code == 403
    assert rest(lab, changer).delete(f"{API}/tags/{tag.pk}/").status_code == 403
    assert rest(lab, adder).patch(f"{API}/tags/{tag.pk}/", {"description": "x"},
                                  content_type="application/json").status_code == 403
    assert rest(lab, changer).patch(f"{API}/tags/{tag.pk}/", {"description": "USB"},
                                    content_type="application/json").status_code == 200
    assert rest(lab, adder).post(f"{API}/tags/", create, content_type="application/json").status_code == 201
    assert rest(lab, deleter).delete(f"{API}/tags/{tag.pk}/").status_code == 204
    assert set(Tag.objects.values_list("name", "description")) == {("new", "")}


def test_rest_actions_on_a_device_need_the_change_permission(lab):
    adder = user_with(lab, "add_device")
    changer = user_with(lab, "change_device")
    url = f"{API}/devices/{lab.device.hostname}/set_health/"
    body = {"health": "MAINTENANCE", "reason": "test"}
    assert rest(lab, adder).post(url, body, content_type="application/json").status_code == 403
    assert rest(lab, changer).post(url, body, content_type="application/json").status_code == 200


# e. CSV cells never start a formula

HOSTILE_NAMES = ["=HYPERLINK(\"http://evil\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_results_exports_quote_formulas_on_every_path(lab):
    suite = TestSuite.objects.create(job=lab.public, name="=suite")
    for name in HOSTILE_NAMES:
        TestCase.objects.create(suite=suite, name=name, result=CaseResult.PASS)
    TestCase.objects.create(suite=suite, name="negative", result=CaseResult.PASS, measurement=Decimal("-1.5"),
                            units="@unit")
    job = lab.public.pk
    exports = {
        "xmlrpc": lab.rpc().results.get_testjob_results_csv(str(job)),
        "xmlrpc suite": lab.rpc().results.get_testsuite_results_csv(str(job), "=suite"),
        "rest": Client().get(f"{API}/jobs/{job}/csv/").content.decode(),
        "web": Client().get(f"/results/{job}/csv").content.decode(),
    }
    for where, text in exports.items():
        rows = {row["name"]: row for row in cells(text)}
        expected = {"'" + name for name in HOSTILE_NAMES} | {"negative"}
        if where.startswith("xmlrpc"):  # XML carries no CR: its parser reads one as LF
            expected = {name.replace("\r", "\n") for name in expected}
        assert set(rows) == expected, where
        assert rows["negative"]["measurement"] == "-1.5" and rows["negative"]["unit"] == "'@unit", where
        assert all(row["suite"] == "'=suite" for row in rows.values()), where
    suites = cells(lab.rpc().results.get_testjob_suites_list_csv(str(job)))
    assert [row["name"] for row in suites] == ["'=suite"]


def test_manage_csv_listings_quote_formulas(lab, capsys):
    from django.core.management import call_command

    AuthToken.objects.create(user=lab.bob, description="=1+1")
    call_command("tokens", "list", "--csv")
    rows = cells(capsys.readouterr().out)
    assert "'=1+1" in [row["description"] for row in rows]


def test_plain_numbers_are_not_formulas():
    from lava_common.csv_cells import inert_cell

    for number in ("-1", "+2.5", "-3e-4", "-.5"):
        assert inert_cell(number) == number
    for text in ("-1-1", "-", "+", "=1", "-cmd", "@", "\n"):
        assert inert_cell(text) == "'" + text
    assert inert_cell(-1) == -1 and inert_cell(None) is None
