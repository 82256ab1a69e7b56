"""The ``notify:`` block of a job turned into the notifications to send.

One row per recipient and per callback. A block with neither mails the
submitter (when they have an address), as the reference does. A recipient
the server cannot resolve (unknown user, user without address, IRC without
server) still gets a row, already Failed with the reason: the job page then
says why nobody was told.
"""

from typing import Any

from django.contrib.auth import get_user_model

from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_scheduler.notifications.models import Channel, DeliveryStatus, Notification


def notify_block(job) -> dict[str, Any] | None:
    if "notify" not in job.definition:
        return None  # most jobs: no YAML parsing in the master's path
    try:
        definition = load_yaml(job.definition)
    except YAMLLoadError:
        return None
    notify = definition.get("notify") if isinstance(definition, dict) else None
    return notify if isinstance(notify, dict) else None


def _user_email(username: str) -> tuple[str, str]:
    """(address, why not) for a LAVA user."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return "", f"no user {username!r}"
    if not user.email:
        return "", f"user {username!r} has no email address"
    return user.email, ""


def _recipient(to: dict[str, Any]) -> tuple[str, str, dict[str, Any], str]:
    """(channel, target, spec, why it cannot be sent) for one ``recipients`` entry."""
    if to.get("method") == "irc":
        handle = to.get("handle") or to.get("user") or ""
        server = to.get("server") or ""
        target = f"{handle}@{server}"
        if not handle or not server:
            return Channel.IRC, target, {}, "an IRC recipient needs handle and server"
        return Channel.IRC, target, {"handle": handle, "server": server}, ""
    if to.get("email"):
        return Channel.EMAIL, to["email"], {"to": to["email"]}, ""
    if to.get("user"):
        address, why = _user_email(to["user"])
        return Channel.EMAIL, address or to["user"], {"to": address}, why
    return Channel.EMAIL, "", {}, "an email recipient needs email or user"


def build_notifications(job, notify: dict[str, Any], event: str) -> list[tuple[Notification, str]]:
    """The notifications of ``event``, each with why it cannot be sent ("" when it can)."""
    verbosity = notify.get("verbosity", "quiet")
    rows: list[tuple[str, str, dict[str, Any], str]] = []
    for recipient in notify.get("recipients") or []:
        rows.append(_recipient(recipient.get("to") or {}))
    callbacks = list(notify.get("callbacks") or [])
    if isinstance(notify.get("callback"), dict):
        callbacks.append(notify["callback"])
    for callback in callbacks:
        rows.append((Channel.CALLBACK, callback["url"], dict(callback), ""))
    if not rows:
        address, why = _user_email(job.submitter.username)
        rows.append((Channel.EMAIL, address or job.submitter.username, {"to": address}, why))
    return [
        (
            Notification(
                job=job, event=event, channel=channel, target=target[:1024], spec=spec, verbosity=verbosity,
                status=DeliveryStatus.FAILED if why else DeliveryStatus.PENDING,
            ),
            why,
        )
        for channel, target, spec, why in rows
    ]
