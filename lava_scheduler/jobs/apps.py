from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "lava_scheduler.jobs"
    label = "jobs"
    verbose_name = "Jobs"
