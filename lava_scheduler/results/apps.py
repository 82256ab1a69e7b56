from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "lava_scheduler.results"
    label = "results"
    verbose_name = "Results"
