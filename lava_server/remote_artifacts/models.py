from django.conf import settings
from django.db import models


class RemoteArtifactToken(models.Model):
    """A token for a remote artifact server (e.g. a CI's artifact store), kept for its owner.

    Stored as given, unlike API tokens: the dispatcher has to send it to that
    server, so it must be readable again (lavacli ``tokens show``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artifact_tokens")
    name = models.CharField(max_length=100)
    token = models.CharField(max_length=500)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="one_artifact_token_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"
