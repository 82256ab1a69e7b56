from django.apps import AppConfig


class PublisherConfig(AppConfig):
    name = "lava_scheduler.publisher"
    label = "publisher"
    verbose_name = "Events"

    def ready(self) -> None:
        from lava_scheduler.publisher import emit  # noqa: F401  connects the model signals; models must be loaded first
