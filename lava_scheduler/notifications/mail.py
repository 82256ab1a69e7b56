"""Notification by mail, through Django's mail backend (``EMAIL_*`` settings)."""

from django.conf import settings
from django.core.mail import EmailMessage

from lava_scheduler.notifications.payload import mail_body, subject


def send_mail(notification, job) -> str:
    message = EmailMessage(
        subject=subject(job),
        body=mail_body(job, notification.verbosity),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.spec["to"]],
    )
    message.send(fail_silently=False)
    return f"mailed to {notification.spec['to']}"
