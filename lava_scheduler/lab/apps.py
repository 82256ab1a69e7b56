from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "lava_scheduler.lab"
    label = "lab"
    verbose_name = "Lab"
