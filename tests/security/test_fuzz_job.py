"""Fuzzing the job parsers: the bounded YAML loader, the schema, lava-run --validate, XML-RPC and REST submission.

Whatever the input: no traceback, no HTTP 500 nor XML-RPC fault 500, and every
refusal names where (a path) and why (a reason).
"""

import base64
import os
import re
import tempfile
import time
import xmlrpc.client
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from lava_common.schemas import JobSchemaError, validate_job, validate_job_text
from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_dispatcher import cli
from lava_scheduler.jobs.models import TestJob
from lava_server.accounts.models import AuthToken
from tests.security.fuzzing import fuzz_settings, job_texts, job_trees

XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DEVICE = Path(__file__).resolve().parents[1] / "dispatcher" / "devices" / "qemu-x86_64.yaml"


def assert_issues_have_path_and_reason(exc: JobSchemaError, document) -> None:
    assert exc.errors
    for issue in exc.errors:
        assert issue.message.strip(), exc.errors
        assert "internal validator error" not in issue.message
        if isinstance(document, dict):
            # inside a mapping every problem has a place; only the document itself is ""
            assert issue.path or issue.message.startswith(("not valid YAML", "definition is nested")), issue


@fuzz_settings
@given(job_texts())
def test_yaml_loader_only_refuses_with_a_reason(text):
    started = time.monotonic()
    try:
        load_yaml(text)
    except YAMLLoadError as exc:
        assert str(exc).strip()
    assert time.monotonic() - started < 10  # bounded, even for alias bombs (loose: the machine is shared)


@fuzz_settings
@given(job_texts())
def test_validating_text_gives_errors_with_paths(text):
    try:
        data = validate_job_text(text)
    except JobSchemaError as exc:
        try:
            document = load_yaml(text)
        except ValueError:
            document = None
        assert_issues_have_path_and_reason(exc, document)
    else:
        assert isinstance(data, dict)


@fuzz_settings
@given(job_trees(), st.booleans(), st.booleans())
def test_validating_trees_gives_errors_with_paths(tree, strict, refuse_long_timeouts):
    try:
        warnings = validate_job(tree, strict=strict, refuse_long_timeouts=refuse_long_timeouts)
    except JobSchemaError as exc:
        assert_issues_have_path_and_reason(exc, tree)
    else:
        assert all(issue.path and issue.message for issue in warnings)


def _lava_run_validate(text: str | bytes) -> dict:
    with tempfile.TemporaryDirectory(prefix="fuzz-lava-run-") as scratch:
        folder = Path(scratch)
        (folder / "job.yaml").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape"))
        (folder / "dispatcher.yaml").write_text(yaml.safe_dump({"dispatcher_download_dir": str(folder / "dl"),
                                                                "prefix": "fuzz-"}))
        args = cli.build_parser().parse_args([
            "--job-id", "1", "--output-dir", str(folder / "out"), "--device", str(DEVICE),
            "--dispatcher", str(folder / "dispatcher.yaml"), "--validate", str(folder / "job.yaml")])
        saved = dict(os.environ)
        try:
            cli.run(args)
        finally:
            os.environ.clear()
            os.environ.update(saved)  # the job's secrets become environment variables
        return load_yaml((folder / "out" / "result.yaml").read_text())


# inputs fuzzing found once, kept so that they are tried on every run
IPV6_URL_JOB = (Path(__file__).resolve().parents[1] / "dispatcher" / "jobs" / "qemu-tests.yaml").read_text().replace(
    "file:///images/x86_64/bzImage", "http://[images.example.org/bzImage")


@fuzz_settings
@given(text=job_texts())
@example(text=IPV6_URL_JOB)
@example(text=b"job_name: \xff\xfe\n")
@example(text="protocols: 1\n")
def test_lava_run_validate_never_reports_a_bug(text, capfd):
    result = _lava_run_validate(text)
    assert result["result"] in ("pass", "fail")
    if result["result"] == "fail":
        assert result["error_type"] != "Bug", result["error_msg"]
        assert result["error_msg"].strip()
    capfd.readouterr()  # lava-run's log records on stderr: not kept between examples


def test_lava_run_refuses_secret_names_no_environment_can_hold(capfd):
    job = yaml.safe_load((DEVICE.parents[1] / "jobs" / "minimal.yaml").read_text())
    for name in ("", "A=B", "NUL\x00"):
        result = _lava_run_validate(yaml.safe_dump({**job, "secrets": {name: "s3cret"}}))
        assert result["error_type"] == "Job" and f"secrets.{name}: not a usable environment" in result["error_msg"]
    capfd.readouterr()


# the server: XML-RPC and REST, through the real views


@pytest.fixture
def submitter(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    alice = User.objects.create_user("alice")
    return alice, AuthToken.objects.create(user=alice).secret


def _xmlrpc(client: Client, authorization: str, method: str, *params) -> tuple[int, object]:
    body = xmlrpc.client.dumps(params, method, allow_none=True)
    response = client.post("/RPC2", body, content_type="text/xml", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 200, response.content[:500]
    try:
        (result,), _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
    except xmlrpc.client.Fault as fault:
        return fault.faultCode, fault.faultString
    return 200, result


@fuzz_settings
@given(text=job_texts())
@pytest.mark.django_db
def test_submission_over_xmlrpc_and_rest_never_fails_with_500(submitter, text):
    user, secret = submitter
    client = Client()
    authorization = "Basic " + base64.b64encode(f"{user.username}:{secret}".encode()).decode()
    before = TestJob.objects.count()
    payload = text
    if isinstance(text, bytes) or XML_UNSAFE.search(text):
        payload = xmlrpc.client.Binary(text if isinstance(text, bytes) else text.encode())  # as XML can carry it
    code, answer = _xmlrpc(client, authorization, "scheduler.jobs.submit", payload)
    assert code in (200, 400), answer
    if code == 400:
        assert "Problem with submitted job data: " in answer and answer.split(": ", 1)[1].strip()
        assert TestJob.objects.count() == before  # a refusal stores nothing
    code, answer = _xmlrpc(client, authorization, "scheduler.jobs.validate", payload, False)
    assert code == 200, answer
    assert answer == {} or (set(answer) == {"path", "msg"} and answer["msg"].strip())
    if isinstance(text, str):
        rest = Client(HTTP_AUTHORIZATION=f"Token {secret}")
        response = rest.post("/api/v0.2/jobs/", {"definition": text}, content_type="application/json")
        assert response.status_code in (201, 400), response.content[:500]
        if response.status_code == 400:
            assert_rest_refusal(response.json())
        response = rest.post("/api/v0.2/jobs/validate/", {"definition": text}, content_type="application/json")
        assert response.status_code in (200, 400), response.content[:500]
        if response.status_code == 400:
            assert_rest_refusal(response.json())
        for error in response.json().get("errors") or []:
            assert error["msg"].strip()


def assert_rest_refusal(body: dict) -> None:
    """Our ``{"message": ...}`` or DRF's ``{field: [reasons]}``: either way a place and a reason."""
    if "message" in body:
        assert body["message"].strip(), body
    else:
        for field, reasons in body.items():
            reasons = reasons if isinstance(reasons, list) else [reasons]
            assert field and reasons and all(str(reason).strip() for reason in reasons), body
