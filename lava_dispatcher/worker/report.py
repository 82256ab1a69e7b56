"""The ``end`` report of a job, built only from what lava-run left on disk.

Everything comes from files (result.yaml, description.yaml, stderr) so the
same report can be rebuilt after a restart of the worker and re-sent until
the master acknowledges it.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from lava_common.yaml_loader import YAMLLoadError, load_yaml

STDERR_TAIL_BYTES = 64 << 10
ERRORS_LIMIT = 4000  # characters of stderr sent as `errors`


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def stderr_tail(path: Path) -> str:
    """The end of lava-run's stderr without its log records (those are in the log already)."""
    try:
        with open(path, "rb") as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(0, size - STDERR_TAIL_BYTES))
            data = stream.read()
    except OSError:
        return ""
    lines = data.decode("utf-8", "replace").splitlines()
    if size > STDERR_TAIL_BYTES and lines:
        lines = lines[1:]  # the first one is probably cut
    kept = "\n".join(line for line in lines if not line.startswith("- {"))
    return kept[-ERRORS_LIMIT:].strip()


def describe_exit(code: int | None) -> str:
    if code is None:
        return "exit code unknown"  # an adopted process: its parent was the previous worker
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _read_result(path: Path) -> tuple[dict[str, Any] | None, str]:
    text = _read_text(path)
    if not text:
        return None, ""
    try:
        data = load_yaml(text)
    except YAMLLoadError as exc:
        return None, f"result.yaml is not valid YAML: {exc}"
    if not isinstance(data, dict) or data.get("result") not in ("pass", "fail"):
        return None, "result.yaml has no 'result: pass|fail'"
    return data, ""


def build_end(
    job_dir: Path,
    log_lines: int,
    exit_code: int | None,
    canceled: bool,
    override: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of the ``end`` message (without ``job_id``)."""
    report: dict[str, Any] = {
        "result": "fail",
        "error_type": "",
        "error_msg": "",
        "errors": stderr_tail(job_dir / "stderr"),
        "description": _read_text(job_dir / "output" / "description.yaml"),
        "log_lines": log_lines,
    }
    if override:
        report.update(override)
        return report
    result, problem = _read_result(job_dir / "output" / "result.yaml")
    how = describe_exit(exit_code)
    if result is not None:
        report["result"] = result["result"]
        report["error_type"] = str(result.get("error_type") or "")
        report["error_msg"] = str(result.get("error_msg") or "")
    elif canceled:
        report["error_type"] = "Canceled"
        report["error_msg"] = f"canceled: lava-run was stopped before it wrote its result ({how})"
    else:
        report["error_type"] = "Bug"
        report["error_msg"] = f"lava-run ended without a result ({how})"
        if problem:
            report["error_msg"] += f"; {problem}"
    return report
