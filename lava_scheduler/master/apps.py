from django.apps import AppConfig


class MasterAppConfig(AppConfig):
    """No models: the app holds the ``lava-master`` command."""

    name = "lava_scheduler.master"
    label = "master"
    verbose_name = "Master"
