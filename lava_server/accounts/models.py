import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_secret() -> str:
    return secrets.token_hex(32)


class AuthToken(models.Model):
    """An API token: HTTP Basic (username + token) for XML-RPC, ``Token`` header for REST."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    secret = models.CharField(max_length=128, unique=True, default=new_secret)
    description = models.TextField(blank=True, default="")
    created_on = models.DateTimeField(default=timezone.now)
    last_used_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"token {self.id} of {self.user}"

    @classmethod
    def authenticate(cls, username: str, secret: str):
        """The user owning this token, or None; records when the token was used."""
        token = cls.objects.select_related("user").filter(user__username=username, secret=secret).first()
        if token is None or not token.user.is_active:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_on=timezone.now())
        return token.user
