"""Job state, health and priority (integer values as the reference's)."""

from django.db import models


class JobState(models.IntegerChoices):
    SUBMITTED = 0, "Submitted"
    SCHEDULING = 1, "Scheduling"
    SCHEDULED = 2, "Scheduled"
    RUNNING = 3, "Running"
    CANCELING = 4, "Canceling"
    FINISHED = 5, "Finished"


class JobHealth(models.IntegerChoices):
    UNKNOWN = 0, "Unknown"
    COMPLETE = 1, "Complete"
    INCOMPLETE = 2, "Incomplete"
    CANCELED = 3, "Canceled"


class JobPriority(models.IntegerChoices):
    LOW = 0, "Low"
    MEDIUM = 50, "Medium"
    HIGH = 100, "High"


def parse_priority(value: str | int) -> int:
    """``high``/``medium``/``low`` or an integer 0..100."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        for number, label in JobPriority.choices:
            if value.lower() == label.lower():
                return number
        raise ValueError(f"priority {value!r}: must be high, medium, low or an integer 0..100")
    number = int(value)
    if not 0 <= number <= 100:
        raise ValueError(f"priority {number}: must be between 0 and 100")
    return number

