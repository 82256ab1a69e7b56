"""The job log format: one YAML flow mapping per line, as a YAML list item.

``- {"dt": "2026-01-02T03:04:05.678901+00:00", "lvl": "info", "msg": "..."}``

Records are written as JSON, which is a subset of YAML flow style; the few
characters that are legal in JSON strings but not in YAML streams (or that
YAML would fold as line breaks) are escaped, so any YAML parser and
``json.loads`` both read every line.
"""

import datetime
import json
import re
from typing import Any

from lava_common.constants import LOG_LEVELS, LOG_LINE_LIMIT
from lava_common.yaml_loader import load_yaml

# C1 controls (incl. NEL), DEL, Unicode line/paragraph separators, BOM and non-characters
_NOT_YAML_SAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"  # a lone surrogate: no YAML reader takes it, even escaped
    return f"\\u{code:04x}"


def utc_now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def format_record(level: str, msg: Any, dt: str | None = None, ns: str | None = None) -> str:
    """One log line (without the trailing newline)."""
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    record: dict[str, Any] = {"dt": dt or utc_now_iso(), "lvl": level, "msg": msg}
    if ns is not None:
        record["ns"] = ns
    line = json.dumps(record, ensure_ascii=False)
    if len(line) > LOG_LINE_LIMIT:
        record["msg"] = f"<line way too long: {len(line)} characters>"
        line = json.dumps(record, ensure_ascii=False)
    return "- " + _NOT_YAML_SAFE.sub(_escape, line)


def parse_record(line: str) -> dict[str, Any]:
    """Read one log line back; accepts our JSON form and any YAML flow form.

    Anything else, a list or a number after the dash included, is a ValueError:
    callers index the record.
    """
    line = line.rstrip("\n")
    if not line.startswith("- "):
        raise ValueError(f"not a log record: {line[:80]!r}")
    body = line[2:]
    try:
        record = json.loads(body)
    except RecursionError:  # "[[[[..." thousands deep: not ours, and YAML would refuse it too
        raise ValueError("not a log record: nested too deeply") from None
    except ValueError:
        record = load_yaml(body)  # bounded: depth, size and aliases
    if not isinstance(record, dict):
        raise ValueError(f"not a log record: {line[:80]!r}")
    return record
