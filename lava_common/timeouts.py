"""Timeout values as written in job definitions and device configurations."""

from typing import Any

_UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def timeout_seconds(value: dict[str, Any]) -> int:
    """Seconds of a timeout block such as ``{"minutes": 5}`` (the ``skip`` key is ignored)."""
    total = 0
    for unit, factor in _UNITS.items():
        if unit in value:
            total += int(value[unit]) * factor
    return total


def format_duration(seconds: float) -> str:
    """HH:MM:SS, as the dispatcher's start/end log lines show durations."""
    seconds = int(round(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
