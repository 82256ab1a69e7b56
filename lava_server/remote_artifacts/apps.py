from django.apps import AppConfig


class RemoteArtifactsConfig(AppConfig):
    name = "lava_server.remote_artifacts"
    label = "remote_artifacts"
    verbose_name = "Remote artifact tokens"
