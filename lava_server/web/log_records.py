"""Turning stored log lines into records for the browser, quickly.

Our lines are JSON after the ``- `` prefix, so the JSON reader reads nearly
all of them; only lines written by other tools fall back to the YAML reader.
A line that cannot be read at all is shown as it is, never dropped, so that
line numbers stay true.
"""

import json
import json.scanner
from typing import Any

from lava_common.log import parse_record

_loads = json.loads
# the C scanner json.loads ends in, called straight on the line from its third character: json.loads'
# own steps (a Python decode, a whitespace regex, a slice) cost twice the parse of a log line
_scan = json.scanner.make_scanner(json.JSONDecoder())


def _read(line: str) -> Any:
    """The value after the two-character prefix, as ``json.loads(line[2:])`` reads it."""
    try:
        value, end = _scan(line, 2)
    except (StopIteration, ValueError, RecursionError):
        end = -1
    if end == len(line):
        return value
    return _loads(line[2:])  # leading or trailing blanks, or not JSON: its own error


def to_record(number: int, line: str) -> list[Any]:
    """``[line number (1-based), dt, lvl, msg]``."""
    try:
        record = _read(line)
    except (ValueError, RecursionError):
        try:
            record = parse_record(line)
        except Exception:  # noqa: BLE001 - any unreadable line is shown raw
            return [number, "", "unreadable", line]
    if not isinstance(record, dict):
        return [number, "", "unreadable", line]
    return [number, record.get("dt", ""), record.get("lvl", ""), record.get("msg", "")]


def to_records(first_number: int, lines: list[str]) -> list[list[Any]]:
    return [to_record(first_number + offset, line) for offset, line in enumerate(lines)]
