"""Timeout values as written in job definitions and device configurations."""

from typing import Any

# the one table of timeout units: the job schema, lava-run and the server all read it
UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def timeout_seconds(value: dict[str, Any]) -> int:
    """Seconds of a timeout block such as ``{"minutes": 5}``; several units add up, as in the reference
    (``{"minutes": 1, "seconds": 30}`` is 90); the ``skip`` key is ignored."""
    total = 0
    for unit, factor in UNITS.items():
        if unit in value:
            total += int(value[unit]) * factor
    return total


def format_duration(seconds: float) -> str:
    """HH:MM:SS, as the dispatcher's start/end log lines show durations."""
    seconds = int(round(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
