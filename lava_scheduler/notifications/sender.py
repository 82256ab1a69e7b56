"""Deliver due notifications, record each attempt, retry with back-off.

Runs in the scheduler's side thread (``run``), never in a daemon's hot loop:
mail, IRC and HTTP may each take seconds. A notification is claimed by
pushing its ``next_attempt`` past the send timeout inside a short locked
transaction (``skip_locked``), so two senders never send it twice and one
that dies mid-send leaves it to be retried.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from lava_scheduler.notifications.address_policy import AddressRefused
from lava_scheduler.notifications.callback import send_callback
from lava_scheduler.notifications.irc import send_irc
from lava_scheduler.notifications.mail import send_mail
from lava_scheduler.notifications.models import Attempt, Channel, DeliveryStatus, Notification
from lava_scheduler.notifications.payload import PlaceholderError

log = logging.getLogger("lava-notifications")

SENDERS: dict[str, Callable] = {Channel.EMAIL: send_mail, Channel.IRC: send_irc, Channel.CALLBACK: send_callback}
CLAIM_SECONDS = 120  # longer than any single send may take
BATCH = 20
POLL_SECONDS = 2.0


def retry_delay(attempts: int) -> float | None:
    """Seconds before the next attempt after ``attempts`` failed ones; None: give up."""
    delays = list(settings.NOTIFICATION_RETRY_DELAYS)
    return float(delays[attempts - 1]) if attempts <= len(delays) else None


def claim_due(limit: int = BATCH) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt__lte=now)
            .order_by("next_attempt", "id")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=due).update(next_attempt=now + timedelta(seconds=CLAIM_SECONDS))
    return due


def deliver(notification: Notification) -> Attempt:
    """One attempt: send, then record it and the new status."""
    job = notification.job
    try:
        detail = SENDERS[notification.channel](notification, job)
        outcome, status = "sent", DeliveryStatus.SENT
    except AddressRefused as exc:
        outcome, status, detail = "refused", DeliveryStatus.REFUSED, str(exc)
    except PlaceholderError as exc:
        outcome, status, detail = "error", DeliveryStatus.FAILED, str(exc)
    except Exception as exc:  # any failure of a peer (network, protocol, HTTP status) is retried
        outcome, status, detail = "error", DeliveryStatus.PENDING, f"{type(exc).__name__}: {exc}"
    notification.attempts += 1
    if status == DeliveryStatus.PENDING:
        delay = retry_delay(notification.attempts)
        if delay is None:
            status = DeliveryStatus.FAILED
            detail += f" (gave up after {notification.attempts} attempts)"
        else:
            notification.next_attempt = timezone.now() + timedelta(seconds=delay)
            detail += f" (retry in {delay:g} s)"
    notification.status = status
    with transaction.atomic():
        notification.save(update_fields=["attempts", "status", "next_attempt"])
        attempt = Attempt.objects.create(notification=notification, outcome=outcome, detail=detail[:4000])
    log.info("job %s: %s %s: %s", job.display_id, notification.channel, outcome, detail)
    return attempt


def send_due(limit: int = BATCH) -> int:
    """Deliver what is due now; returns how many attempts were made."""
    claimed = claim_due(limit)
    for notification in Notification.objects.filter(pk__in=claimed).select_related("job", "job__submitter"):
        deliver(notification)
    return len(claimed)


def run(should_stop: Callable[[], bool], poll: float = POLL_SECONDS) -> None:
    """Send until ``should_stop``; a database error waits and retries."""
    while not should_stop():
        try:
            sent = send_due()
        except DatabaseError as exc:
            log.error("database error: %s; retrying", exc)
            close_old_connections()
            sent = 0
        if not sent:
            time.sleep(poll)


def start_thread(should_stop: Callable[[], bool]) -> threading.Thread:
    thread = threading.Thread(target=run, args=(should_stop,), name="notifications", daemon=True)
    thread.start()
    return thread
