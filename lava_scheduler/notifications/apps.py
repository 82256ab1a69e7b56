from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "lava_scheduler.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from lava_scheduler.notifications import triggers  # noqa: F401  connects the job signal; models must be loaded first
