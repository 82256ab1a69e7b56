"""Queue a job's notifications when it starts running or ends.

A ``post_save`` receiver on ``TestJob``: it runs inside the transaction that
stores the new state, so the rows exist exactly when the state does. It only
writes rows; sending happens later, outside every hot loop (``sender``).
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.notifications.criteria import event_of, fires
from lava_scheduler.notifications.models import Attempt, Notification
from lava_scheduler.notifications.targets import build_notifications, notify_block


def state_changed(job: TestJob) -> bool:
    # GuardedStateModel still holds the state read from the database while post_save runs
    before = getattr(job, "_guarded_saved", {}).get("state")
    return before != job.state


def queue_notifications(job: TestJob, event: str) -> list[Notification]:
    notify = notify_block(job)
    if notify is None or not fires(notify.get("criteria") or {}, job, event):
        return []
    queued = []
    for notification, why in build_notifications(job, notify, event):
        notification.save()
        if why:
            Attempt.objects.create(notification=notification, outcome="error", detail=why)
        queued.append(notification)
    return queued


@receiver(post_save, sender=TestJob, dispatch_uid="lava-notifications")
def on_job_saved(sender, instance: TestJob, created: bool, raw: bool = False, **_) -> None:
    if raw or not state_changed(instance):
        return
    event = event_of(instance)
    if event is not None:
        queue_notifications(instance, event)
