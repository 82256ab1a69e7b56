"""The web UI: server-rendered pages."""
from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "lava_server.web"
    label = "web"
    verbose_name = "Web UI"

    def ready(self) -> None:
        # runs after the admin's autodiscover (django.contrib.admin comes first in INSTALLED_APPS)
        from lava_server.web.admin_registry import register_missing_models

        register_missing_models()
