"""What is to be told to whom about a job, and every attempt to tell it."""

from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "email"
    IRC = "irc", "IRC"
    CALLBACK = "callback", "callback"


class DeliveryStatus(models.IntegerChoices):
    PENDING = 0, "Pending"
    SENT = 1, "Sent"
    REFUSED = 2, "Refused"  # never sent: the target is not allowed
    FAILED = 3, "Failed"  # gave up after the last retry, or an error retrying cannot fix


class Notification(models.Model):
    job = models.ForeignKey("jobs.TestJob", on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=16, help_text="running or finished")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=1024, help_text="address, nick@server or URL, as shown")
    # how to send: recipients and callback options, as the definition gave them
    spec = models.JSONField(default=dict)
    verbosity = models.CharField(max_length=16, default="quiet")
    status = models.IntegerField(choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["next_attempt"], condition=models.Q(status=0), name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.target} ({self.get_status_display()})"


class Attempt(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    time = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, help_text="sent, refused or error")
    detail = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
