import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone


def new_secret() -> str:
    return secrets.token_hex(32)


def hash_secret(secret: str) -> str:
    """The SHA-256 of a token secret, as kept in the database.

    A plain hash is enough: secrets are 256 random bits (or at least 32
    characters chosen by an admin), and it keeps the lookup a single indexed query.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AuthToken(models.Model):
    """An API token: HTTP Basic (username + token) for XML-RPC, ``Token`` header for REST.

    Only the secret's hash is stored, so a copy of the database gives no usable
    token. The clear secret (``secret``) exists only on the instance that made
    the token, to be shown once to its owner.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    secret_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    description = models.TextField(blank=True, default="")
    created_on = models.DateTimeField(default=timezone.now)
    last_used_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"token {self.id} of {self.user}"

    @property
    def secret(self) -> str | None:
        """The clear secret, or None on a token read back from the database."""
        return self.__dict__.get("_secret")

    @secret.setter
    def secret(self, value: str) -> None:
        self._secret = value
        self.secret_sha256 = hash_secret(value)

    def save(self, *args, **kwargs) -> None:
        if not self.secret_sha256:
            self.secret = new_secret()
        super().save(*args, **kwargs)

    @classmethod
    def with_secret(cls, secret: str) -> QuerySet:
        return cls.objects.filter(secret_sha256=hash_secret(secret))

    @classmethod
    def authenticate(cls, username: str, secret: str):
        """The user owning this token, or None; records when the token was used."""
        token = cls.with_secret(secret).select_related("user").filter(user__username=username).first()
        if token is None or not token.user.is_active:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_on=timezone.now())
        return token.user
