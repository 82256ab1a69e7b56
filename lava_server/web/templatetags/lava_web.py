"""Small presentation helpers for the web UI templates."""

from datetime import datetime, timedelta
from urllib.parse import quote

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

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


# Links in long tables: reversing a URL costs ~0.2 ms, a string join microseconds,
# so each pattern is reversed once with a placeholder and filled in per row.
_PLACEHOLDER = "PLACEHOLDER"
_url_patterns: dict[str, str] = {}


def _fill(name: str, value: object) -> str:
    pattern = _url_patterns.get(name)
    if pattern is None:
        from django.urls import reverse

        sample = "987654321" if name == "web-job" else _PLACEHOLDER  # job ids are digits only
        pattern = _url_patterns[name] = reverse(name, args=[sample]).replace(sample, _PLACEHOLDER)
    return pattern.replace(_PLACEHOLDER, quote(str(value), safe=".-_"))


@register.filter
def job_url(job_or_id) -> str:
    return _fill("web-job", getattr(job_or_id, "display_id", job_or_id))


@register.filter
def device_url(hostname: str) -> str:
    return _fill("web-device", hostname)


@register.filter
def device_type_url(name: str) -> str:
    return _fill("web-device-type", name)


@register.filter
def worker_url(hostname: str) -> str:
    return _fill("web-worker", hostname)


@register.filter
def current_job_link(jobs: dict, hostname: str) -> str:
    """The link to a device's current job, or a note that it is private, or a dash."""
    current = jobs.get(hostname) if jobs else None
    if not current:
        return mark_safe('<span class="muted">—</span>')
    if not current["visible"]:
        return mark_safe('<span class="muted" title="a job you may not see">private job</span>')
    return format_html('<a href="{}">{}</a>', job_url(current["id"]), current["id"])
