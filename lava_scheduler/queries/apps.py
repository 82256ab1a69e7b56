from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "lava_scheduler.queries"
    label = "queries"
    verbose_name = "Result queries"
