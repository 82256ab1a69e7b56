from django.apps import AppConfig


class SchedulerAppConfig(AppConfig):
    """No models: the app holds the ``lava-scheduler`` command."""

    name = "lava_scheduler.scheduler"
    label = "scheduler"
    verbose_name = "Scheduler"
