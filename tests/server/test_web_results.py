"""Results pages of a job by suite, and their CSV/YAML exports."""

import csv
import io

import pytest
import yaml

from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import CaseResult, add_results, client_for, make_job

web_lab, alice, bob = fixtures.web_lab, fixtures.alice, fixtures.bob
pytestmark = pytest.mark.django_db


@pytest.fixture
def job_with_results(web_lab, alice):
    job = make_job(alice, "tested")
    add_results(job, "lava", {"validate": CaseResult.PASS, "job": CaseResult.PASS})
    add_results(job, "0_smoke", {"ls": CaseResult.PASS, "ping": CaseResult.FAIL, "later": CaseResult.SKIP})
    return job


def test_results_by_suite(job_with_results):
    job = job_with_results
    page = client_for(None).get(f"/results/{job.pk}")
    assert page.status_code == 200
    suites = {s["name"]: s for s in page.context["suites"]}
    assert suites["0_smoke"]["fail"] == 1 and suites["0_smoke"]["total"] == 3
    suite = client_for(None).get(f"/results/{job.pk}/0_smoke")
    assert [c.name for c in suite.context["page"].items] == ["ls", "ping", "later"]
    assert f"/scheduler/job/{job.pk}#L2" in suite.content.decode()  # ping, log line index 1
    assert client_for(None).get(f"/results/{job.pk}/nope").status_code == 404


def test_csv_export(job_with_results):
    job = job_with_results
    answer = client_for(None).get(f"/results/{job.pk}/csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [(r["suite"], r["name"], r["result"]) for r in rows] == [
        ("lava", "validate", "pass"), ("lava", "job", "pass"),
        ("0_smoke", "ls", "pass"), ("0_smoke", "ping", "fail"), ("0_smoke", "later", "skip"),
    ]
    assert rows[0]["job"] == str(job.pk) and rows[0]["log_start_line"] == "0"
    suite_rows = list(csv.DictReader(io.StringIO(client_for(None).get(f"/results/{job.pk}/0_smoke/csv").content.decode())))
    assert len(suite_rows) == 3


def test_yaml_export(job_with_results):
    job = job_with_results
    answer = client_for(None).get(f"/results/{job.pk}/yaml")
    cases = yaml.safe_load(answer.content)
    assert len(cases) == 5
    assert {"name", "job", "suite", "result", "measurement", "unit", "logged", "metadata", "url", "id",
            "log_start_line", "log_end_line"} <= set(cases[0])
    suite = yaml.safe_load(client_for(None).get(f"/results/{job.pk}/lava/yaml").content)
    assert [c["name"] for c in suite] == ["validate", "job"]


def test_results_of_a_private_job_stay_private(web_lab, alice, bob):
    job = make_job(alice, "secret results", public=False)
    add_results(job, "lava", {"job": CaseResult.PASS})
    for path in ("", "/csv", "/yaml", "/junit", "/lava", "/lava/csv", "/lava/yaml", "/lava/job"):
        assert client_for(bob).get(f"/results/{job.pk}{path}").status_code == 404, path
        assert client_for(None).get(f"/results/{job.pk}{path}").status_code == 404, path
    assert client_for(alice).get(f"/results/{job.pk}/yaml").status_code == 200


def test_junit_export(job_with_results):
    import xml.etree.ElementTree as ET

    answer = client_for(None).get(f"/results/{job_with_results.pk}/junit")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/xml")
    suites = ET.fromstring(answer.content).iter("testsuite")
    assert {suite.get("name") for suite in suites} == {"lava", "0_smoke"}


def test_case_page(job_with_results):
    job = job_with_results
    suite_page = client_for(None).get(f"/results/{job.pk}/0_smoke").content.decode()
    assert f'href="/results/{job.pk}/0_smoke/ping"' in suite_page
    page = client_for(None).get(f"/results/{job.pk}/0_smoke/ping")
    assert page.status_code == 200
    text = page.content.decode()
    assert "fail" in text and "case: ping" in text and f"/scheduler/job/{job.pk}#L2" in text
    assert client_for(None).get(f"/results/{job.pk}/0_smoke/nope").status_code == 404
