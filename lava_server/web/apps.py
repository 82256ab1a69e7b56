from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "lava_server.web"
    label = "web"
    verbose_name = "Web UI"
