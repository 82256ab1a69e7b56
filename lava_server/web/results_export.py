"""Test results of a job as CSV or YAML rows, with the reference's export fields."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from lava_common.yaml_loader import dump_yaml
from lava_scheduler.results.models import TestCase

FIELDS = [
    "name", "job", "suite", "result", "measurement", "unit", "duration", "timeout", "logged", "level",
    "metadata", "url", "id", "log_start_line", "log_end_line",
]


def case_row(case: TestCase, job_id: str, suite_name: str) -> dict[str, Any]:
    metadata = case.metadata if isinstance(case.metadata, dict) else {}
    anchor = f"#L{case.start_log_line + 1}" if case.start_log_line is not None else ""
    return {
        "name": case.name,
        "job": job_id,
        "suite": suite_name,
        "result": case.get_result_display(),
        "measurement": None if case.measurement is None else str(case.measurement.normalize()),
        "unit": case.units,
        "duration": str(metadata.get("duration", "")),
        "timeout": str(metadata.get("timeout", "")),
        "logged": case.logged.isoformat(),
        "level": str(metadata.get("level", "")),
        "metadata": metadata,
        "url": f"/scheduler/job/{job_id}{anchor}",
        "id": case.pk,
        "log_start_line": case.start_log_line,
        "log_end_line": case.end_log_line,
    }


def rows(cases: Iterable[TestCase], job_id: str) -> Iterator[dict[str, Any]]:
    for case in cases:
        yield case_row(case, job_id, case.suite.name)


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV text, a header then a few hundred rows per chunk (for a streaming response)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for index, row in enumerate(rows, 1):
        writer.writerow(dict(row, metadata=json.dumps(row["metadata"], sort_keys=True, default=str)))
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def yaml_text(rows: Iterable[dict[str, Any]]) -> str:
    return dump_yaml(list(rows))
