"""A job's results as CSV, YAML and JUnit (APIs and web UI share these).

Each test case becomes one row with the reference's export fields; the
caller decides who may see the job (``lava_scheduler.jobs.visibility``).
"""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

from lava_common.csv_cells import inert_cell
from lava_common.log import parse_record
from lava_common.yaml_loader import dump_yaml
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.models import TestCase, TestResult, TestSuite

CASE_FIELDS = [
    "name", "job", "suite", "result", "measurement", "unit", "duration", "timeout", "logged", "level",
    "metadata", "url", "id", "log_start_line", "log_end_line",
]
SUITE_FIELDS = ["name", "job", "id"]
RESULT_LABELS = dict(TestResult.choices)
# a failed case's log excerpt in JUnit: enough to see the cause, bounded for huge logs
JUNIT_LOG_LINES = 200
# characters XML 1.0 cannot carry (board output often has escape sequences)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _measurement(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def case_rows(job, suite: str | None = None, case: str | None = None,
              limit: int | None = None, offset: int | None = None) -> list[dict[str, Any]]:
    """The job's test cases (optionally of one suite, one case name), in the order they arrived."""
    cases = TestCase.objects.filter(suite__job=job)
    if suite is not None:
        cases = cases.filter(suite__name=suite)
    if case is not None:
        cases = cases.filter(name=case)
    cases = cases.order_by("id").values(
        "id", "name", "result", "measurement", "units", "metadata", "logged", "start_log_line",
        "end_log_line", "suite__name",
    )
    start = offset or 0
    cases = cases[start : start + limit] if limit else cases[start:]
    job_id = job.display_id
    rows = []
    for item in cases:
        metadata = item["metadata"] if isinstance(item["metadata"], dict) else {}
        rows.append(
            {
                "name": item["name"],
                "job": job_id,
                "suite": item["suite__name"],
                "result": RESULT_LABELS[item["result"]],
                "measurement": _measurement(item["measurement"]),
                "unit": item["units"],
                "duration": str(metadata["duration"]) if "duration" in metadata else "",
                "timeout": str(metadata["timeout"]) if "timeout" in metadata else "",
                "logged": item["logged"].isoformat(),
                "level": str(metadata.get("level", "")),
                "metadata": metadata,
                "url": f"/results/{job_id}/{item['suite__name']}/{item['name']}",
                "id": item["id"],
                "log_start_line": item["start_log_line"],
                "log_end_line": item["end_log_line"],
            }
        )
    return rows


def suite_rows(job) -> list[dict[str, Any]]:
    return [
        {"name": name, "job": job.display_id, "id": pk}
        for pk, name in TestSuite.objects.filter(job=job).order_by("id").values_list("id", "name")
    ]


def case_count(job, suite: str) -> int:
    return TestCase.objects.filter(suite__job=job, suite__name=suite).count()


def to_yaml(rows: list[dict[str, Any]]) -> str:
    return dump_yaml(rows) if rows else "[]\n"


def to_csv(rows: list[dict[str, Any]], fields: list[str] = CASE_FIELDS) -> str:
    out = io.StringIO()
    # RFC 4180 line ends: Python's writer then also quotes a CR inside a cell, which would
    # otherwise end the row early for most readers
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {key: inert_cell(json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value)
             for key, value in row.items()}
        )
    return out.getvalue()


def log_excerpt(store: LogStore, start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return ""
    first = max(0, min(start, end))
    last = min(max(start, end) + 1, first + JUNIT_LOG_LINES)
    lines = []
    for line in store.read(first, last):
        try:
            record = parse_record(line)
        except ValueError:
            continue
        msg = record.get("msg")
        lines.append(msg if isinstance(msg, str) else json.dumps(msg))
    return _NOT_XML.sub("", "\n".join(lines))


def to_junit(job, classname_prefix: str = "") -> str:
    """One <testsuite> per suite; a failed case carries the log lines between its markers."""
    rows = case_rows(job)
    store = LogStore(job_output_dir(job))
    root = ET.Element("testsuites")
    by_suite: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_suite.setdefault(row["suite"], []).append(row)
    for suite, cases in by_suite.items():
        failures = sum(1 for c in cases if c["result"] == "fail")
        skipped = sum(1 for c in cases if c["result"] in ("skip", "unknown"))
        element = ET.SubElement(
            root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures),
            errors="0", skipped=str(skipped),
        )
        classname = f"{classname_prefix}{suite}"
        for case in cases:
            testcase = ET.SubElement(element, "testcase", name=case["name"], classname=classname)
            if case["duration"]:
                testcase.set("time", case["duration"])
            if case["result"] == "fail":
                failure = ET.SubElement(testcase, "failure", message="failed", type="failure")
                failure.text = log_excerpt(store, case["log_start_line"], case["log_end_line"])
            elif case["result"] in ("skip", "unknown"):
                ET.SubElement(testcase, "skipped", message=case["result"])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
