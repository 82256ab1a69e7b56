"""Small presentation helpers for the web UI templates."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

from lava_common.timeouts import format_duration

register = template.Library()


@register.filter
def badge(label: object) -> str:
    """A coloured label: its CSS class comes from the state/health name (``badge-running``)."""
    text = str(label)
    return format_html('<span class="badge badge-{}">{}</span>', text.lower().replace(" ", "-"), text)


@register.filter
def duration(value: timedelta | float | None) -> str:
    if value is None:
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return format_duration(max(0, int(seconds)))


@register.filter
def since(value: datetime | None) -> str:
    """How long ago, compactly ("3 s ago", "5 min ago", "2 h ago", else the date)."""
    if value is None:
        return "never"
    seconds = (timezone.now() - value).total_seconds()
    if seconds < 60:
        return f"{max(0, int(seconds))} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@register.filter
def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key, "") if mapping else ""


@register.simple_tag
def instance_name() -> str:
    from django.conf import settings

    return getattr(settings, "INSTANCE_NAME", "LAVA")


@register.filter
def job_status(job) -> str:
    """What a user wants to know of a job at a glance: its outcome once finished, else its state."""
    from lava_scheduler.jobs.states import JobState

    return badge(job.get_health_display() if job.state == JobState.FINISHED else job.get_state_display())


@register.filter
def minus(end: datetime, start: datetime) -> timedelta | None:
    """``end - start`` (both datetimes), for the duration filter."""
    if end is None or start is None:
        return None
    return end - start


@register.filter
def thousands(value: int) -> str:
    return f"{value:,}"


@register.filter
def split(text: str) -> list[str]:
    return text.split()


def _transition_label(transition, value: int) -> str:
    from lava_scheduler.lab.states import DeviceHealth, DeviceState

    enum = DeviceHealth if transition.field == "health" else DeviceState
    try:
        return enum(value).label
    except ValueError:
        return str(value)


@register.filter
def old_label(transition) -> str:
    return _transition_label(transition, transition.old_value)


@register.filter
def new_label(transition) -> str:
    return _transition_label(transition, transition.new_value)
