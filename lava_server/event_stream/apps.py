from django.apps import AppConfig


class EventStreamConfig(AppConfig):
    name = "lava_server.event_stream"
    label = "event_stream"
    verbose_name = "Event stream"
