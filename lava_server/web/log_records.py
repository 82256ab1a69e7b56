"""Turning stored log lines into records for the browser, quickly.

Our lines are JSON after the ``- `` prefix, so ``json.loads`` reads nearly
all of them; only lines written by other tools fall back to the YAML reader.
A line that cannot be read at all is shown as it is, never dropped, so that
line numbers stay true.
"""

import json
from typing import Any

from lava_common.log import parse_record

_loads = json.loads


def to_record(number: int, line: str) -> list[Any]:
    """``[line number (1-based), dt, lvl, msg]``."""
    try:
        record = _loads(line[2:])
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
