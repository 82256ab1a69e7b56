"""Fuzzing the log path: the record format, storing what a worker sends, and every range reader.

Whatever the lines and whatever the range asked for: the XML-RPC
``scheduler.jobs.logs``, the REST ``jobs/<id>/logs/`` and the web log reader
answer with the lines asked for or a refusal with a reason; never a 500.
"""

import json
import re
import xmlrpc.client
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from lava_common.constants import LOG_LEVELS
from lava_common.log import format_record, parse_record
from lava_common.yaml_loader import load_yaml
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.logs.ingest import store_log_lines
from lava_scheduler.logs.store import LogStore, job_output_dir
from tests.security.fuzzing import fuzz_settings

# every code point, lone surrogates included: a worker's JSON may carry "\ud800"
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
MESSAGES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), ANY_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(ANY_TEXT, inner, max_size=4)),
    max_leaves=12,
)
RECORD_LIKE = st.one_of(
    st.builds(lambda lvl, msg: format_record(lvl, msg), st.sampled_from(LOG_LEVELS), MESSAGES),
    st.builds(lambda msg: '- {"dt": "x", "lvl": "results", "msg": ' + msg + "}",
              st.sampled_from(['{"definition": "d", "case": "c", "result": "pass"}', "[]", "{", "1e999",
                               '{"definition": "' + "x" * 300 + '", "case": 5}', "null", '"\\ud800"'])),
    ANY_TEXT.map(lambda text: "- " + text),
    ANY_TEXT,
    st.just("- " + "[" * 5000),
    st.just('- {"lvl": "results", "msg": ' + "[" * 5000 + "}"),
)


@fuzz_settings
@given(st.sampled_from(LOG_LEVELS), MESSAGES)
def test_any_message_is_written_as_one_line_that_json_and_yaml_read_back(level, msg):
    line = format_record(level, msg, dt="2026-01-02T03:04:05+00:00")
    assert "\n" not in line and "\r" not in line
    record = parse_record(line)
    assert load_yaml(line) == [record]  # lavacli reads logs with a YAML parser
    if record["msg"] != msg and not _has_surrogates(msg):
        assert record["msg"].startswith("<line way too long")  # only an over-long record is replaced


def _has_surrogates(value) -> bool:
    return "\\ud" in json.dumps(value)  # a lone surrogate is written as U+FFFD: YAML cannot hold it


@fuzz_settings
@given(RECORD_LIKE)
def test_any_line_is_read_or_refused_with_value_error(line):
    try:
        parse_record(line)
    except ValueError as exc:
        assert str(exc).strip()


# the server: a job, its stored log, and every reader


@pytest.fixture
def job_with_owner(db, device, settings, tmp_path):
    from django.contrib.auth.models import User

    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    owner = User.objects.create_user("alice")
    job = TestJob.objects.create(submitter=owner, is_public=True, description="fuzz", definition="{}",
                                 original_definition="{}", requested_device_type_id="qemu")
    return job


def _rpc(method: str, *params) -> tuple[int, object]:
    body = xmlrpc.client.dumps(params, method, allow_none=True)
    response = Client().post("/RPC2", body, content_type="text/xml")
    assert response.status_code == 200, response.content[:300]
    try:
        (result,), _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
    except xmlrpc.client.Fault as fault:
        assert fault.faultCode != 500 and fault.faultString.strip(), fault.faultString
        return fault.faultCode, fault.faultString
    return 200, result


RANGE_VALUES = st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1), st.integers(-30, 30), st.booleans(),
                         st.floats(), st.text(max_size=6), st.sampled_from(["3", "-2", "1e3", "²", "0x10"]))
QUERY_VALUES = st.one_of(st.integers(-(2**70), 2**70).map(str), st.text(max_size=8), st.just("9" * 5000))


@fuzz_settings
@given(lines=st.lists(RECORD_LIKE, max_size=12), start=RANGE_VALUES, end=RANGE_VALUES,
       query=st.dictionaries(st.sampled_from(["start", "end"]), QUERY_VALUES, max_size=2))
@example(lines=["- \ud800", "- \r", '- {"lvl": "results", "msg": ' + "[" * 5000 + "}", "- 5"], start=None,
         end=float("inf"), query={"start": "9" * 30})  # found by fuzzing once
def test_stored_lines_come_back_through_every_reader(job_with_owner, lines, start, end, query):
    job = job_with_owner
    store = LogStore(job_output_dir(job))
    job.log_lines = 0
    TestJob.objects.filter(pk=job.pk).update(log_lines=0)
    store.truncate(0)
    assert store_log_lines(job.pk, 0, lines) == len(lines)
    stored = [line.replace("\n", " ") for line in lines]
    # what went in comes out, line for line (a lone surrogate as U+FFFD)
    assert store.read() == [re.sub("[\ud800-\udfff]", "\ufffd", line) for line in stored]

    code, answer = _rpc("scheduler.jobs.logs", job.pk, start, end)
    if code == 200:
        finished, data = answer
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        first = int(start) if start is not None else 0
        last = None if end is None else int(end)
        assert text.split("\n")[:-1] == store.read()[first:last]  # records end at "\n" only
    code, count = _rpc("scheduler.jobs.logs_count", job.pk)
    assert (code, count) == (200, len(lines))

    response = Client().get(f"/api/v0.2/jobs/{job.pk}/logs/?{urlencode(query)}")
    assert response.status_code in (200, 400), response.content[:300]
    response = Client().get(f"/scheduler/job/{job.pk}/log?{urlencode(query)}")
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        body = response.json()
        assert len(body["records"]) == body["end"] - body["start"]


@fuzz_settings
@given(job_id=st.one_of(st.integers(-(2**31), 2**31 - 1), st.text(max_size=25), st.floats(), st.none(),
                        st.sampled_from(["1.1", "²", "9" * 30, "1.9999999999999999999", " 1 ", "٣"])),
       path_id=st.one_of(st.integers(0, 2**70).map(str), st.sampled_from(["1.2", "٣", "1" * 40])))
def test_unknown_or_odd_job_ids_are_refused_with_a_reason(job_with_owner, job_id, path_id):
    for method in ("scheduler.jobs.logs", "scheduler.jobs.logs_count"):
        code, _answer = _rpc(method, job_id)
        assert code in (200, 400, 404)
    for url in (f"/api/v0.2/jobs/{path_id}/logs/", f"/scheduler/job/{path_id}/log"):
        assert Client().get(url).status_code in (200, 400, 404)
