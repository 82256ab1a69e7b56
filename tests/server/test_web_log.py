"""The log endpoint behind the live log view: ranges, the tail, numbering, visibility."""

import pytest

from lava_common.log import format_record
from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import JobHealth, add_log, client_for, finish, log_lines, make_job

web_lab, alice, bob = fixtures.web_lab, fixtures.alice, fixtures.bob
pytestmark = pytest.mark.django_db


def test_without_a_start_the_tail_comes_first(web_lab, alice):
    job = make_job(alice, "long log")
    add_log(job, log_lines(2500))
    data = client_for(None).get(f"/scheduler/job/{job.pk}/log").json()
    assert data["total"] == 2500
    assert (data["start"], data["end"]) == (1500, 2500)
    assert data["records"][0][0] == 1501 and data["records"][-1][0] == 2500  # 1-based line numbers
    assert data["records"][-1][2:] == ["target", "line 2500"]
    assert data["finished"] is False and data["state"] == "Submitted"


def test_ranges_and_bounds(web_lab, alice):
    job = make_job(alice, "ranges")
    add_log(job, log_lines(50))
    client = client_for(None)
    data = client.get(f"/scheduler/job/{job.pk}/log?start=10&end=20").json()
    assert [r[0] for r in data["records"]] == list(range(11, 21))
    assert data["records"][0][3] == "line 11"
    assert client.get(f"/scheduler/job/{job.pk}/log?start=45").json()["end"] == 50
    past_the_end = client.get(f"/scheduler/job/{job.pk}/log?start=500").json()
    assert past_the_end["records"] == [] and past_the_end["start"] == 50
    nonsense = client.get(f"/scheduler/job/{job.pk}/log?start=abc&end=-4").json()
    assert nonsense["total"] == 50  # bad numbers fall back to defaults, no error page


def test_a_range_is_capped(web_lab, alice):
    job = make_job(alice, "capped")
    add_log(job, log_lines(6000))
    data = client_for(None).get(f"/scheduler/job/{job.pk}/log?start=0&end=6000").json()
    assert data["end"] == 5000


def test_levels_structured_messages_and_unreadable_lines(web_lab, alice):
    job = make_job(alice, "mixed")
    results = {"definition": "lava", "case": "job", "result": "pass"}
    add_log(job, [format_record("info", "hello"), format_record("results", results), "garbage line",
                  '- {dt: "2026-01-01T00:00:00", lvl: debug, msg: yaml form}'])
    records = client_for(None).get(f"/scheduler/job/{job.pk}/log?start=0").json()["records"]
    assert records[0][2:] == ["info", "hello"]
    assert records[1][2:] == ["results", results]
    assert records[2] == [3, "", "unreadable", "garbage line"]
    assert records[3][2:] == ["debug", "yaml form"]


def test_finished_flag_and_empty_log(web_lab, alice):
    job = finish(make_job(alice, "no log"), JobHealth.CANCELED)
    data = client_for(None).get(f"/scheduler/job/{job.pk}/log").json()
    assert data["finished"] is True and data["total"] == 0 and data["records"] == []
    assert data["health"] == "Canceled"


def test_lines_the_database_has_not_counted_yet_are_not_served(web_lab, alice):
    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.logs.store import LogStore, job_output_dir

    job = make_job(alice, "in flight")
    add_log(job, log_lines(10))
    LogStore(job_output_dir(job)).append(["- {}"] * 3)  # written, transaction not committed yet
    assert TestJob.objects.get(pk=job.pk).log_lines == 10
    assert client_for(None).get(f"/scheduler/job/{job.pk}/log").json()["total"] == 10


def test_raw_log(web_lab, alice, bob):
    job = make_job(alice, "raw")
    add_log(job, log_lines(3))
    answer = client_for(None).get(f"/scheduler/job/{job.pk}/log/raw")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content).decode().count("\n") == 3
    empty = make_job(alice, "nothing yet")
    assert client_for(None).get(f"/scheduler/job/{empty.pk}/log/raw").content == b""
    private = make_job(alice, "private", public=False)
    add_log(private, log_lines(3))
    assert client_for(bob).get(f"/scheduler/job/{private.pk}/log/raw").status_code == 404
    assert client_for(alice).get(f"/scheduler/job/{private.pk}/log").json()["total"] == 3


@pytest.mark.parametrize("line", [
    format_record("info", "hello"), format_record("results", {"case": "c", "result": "pass"}), "garbage", "", "-", "- ",
    "- 1", "- [1]", '- {"a": 1}  ', '-  {"a": 1}', '- {"a": 1}, {"b": 2}', '- {"a": 1}}', '- {"msg": "x"}\t',
    "- {dt: x, lvl: debug, msg: y}", 'xx{"lvl": "info"}', '- {"a": NaN}', '- "text"', "- " + "[" * 5000,
])
def test_a_line_reads_as_json_loads_of_its_text_after_the_prefix(line):
    """The scanner shortcut gives json.loads(line[2:])'s record, or the same fallback."""
    import json

    from lava_common.log import parse_record
    from lava_server.web.log_records import to_record

    try:
        expected = json.loads(line[2:])
    except (ValueError, RecursionError):
        try:
            expected = parse_record(line)
        except Exception:  # noqa: BLE001 - as the endpoint: unreadable
            expected = None
    if isinstance(expected, dict):
        assert to_record(7, line) == [7, expected.get("dt", ""), expected.get("lvl", ""), expected.get("msg", "")]
    else:
        assert to_record(7, line) == [7, "", "unreadable", line]
