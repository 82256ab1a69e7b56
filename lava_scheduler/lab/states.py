"""State and health enumerations of devices and workers (integer values as the reference's)."""

from django.db import models


class DeviceState(models.IntegerChoices):
    IDLE = 0, "Idle"
    RESERVED = 1, "Reserved"
    RUNNING = 2, "Running"


class DeviceHealth(models.IntegerChoices):
    GOOD = 0, "Good"
    UNKNOWN = 1, "Unknown"
    LOOPING = 2, "Looping"
    BAD = 3, "Bad"
    MAINTENANCE = 4, "Maintenance"
    RETIRED = 5, "Retired"


class WorkerState(models.IntegerChoices):
    ONLINE = 0, "Online"
    OFFLINE = 1, "Offline"


class WorkerHealth(models.IntegerChoices):
    ACTIVE = 0, "Active"
    MAINTENANCE = 1, "Maintenance"
    RETIRED = 2, "Retired"


class HealthDenominator(models.IntegerChoices):
    HOURS = 0, "hours"
    JOBS = 1, "jobs"


class TransitionError(Exception):
    """A state or health change the rules do not allow."""


def parse_choice(choices: type[models.IntegerChoices], text: str | int) -> int:
    """An enum value from its label (case-insensitive) or number, for commands and APIs."""
    for value, label in choices.choices:
        if str(text).lower() in (label.lower(), str(value)):
            return value
    known = ", ".join(label for _, label in choices.choices)
    raise ValueError(f"unknown {choices.__name__} {text!r}; known: {known}")
