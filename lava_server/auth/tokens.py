"""Turning an ``Authorization`` header into a user.

lavacli sends ``Basic base64(username:token)`` on every request; REST clients
send ``Token <secret>``. No header means an anonymous caller. A header that
names a user but holds a wrong token is refused outright (HTTP 401): silently
treating it as anonymous would make "permission denied" errors baffling.
"""

import base64
import binascii
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from lava_server.accounts.models import AuthToken

# last_used_on is only informative: refreshing it at most once a minute keeps
# an UPDATE off the path of every API call
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AuthenticationFailed(Exception):
    """The header is malformed (``status`` 400) or the credentials are wrong (401)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _touch(token: AuthToken) -> None:
    now = timezone.now()
    if token.last_used_on is None or now - token.last_used_on > LAST_USED_RESOLUTION:
        AuthToken.objects.filter(pk=token.pk).update(last_used_on=now)


def user_for_token(secret: str, username: str | None = None):
    """The active user owning ``secret`` (and named ``username`` when given), or None."""
    tokens = AuthToken.with_secret(secret).select_related("user")
    if username is not None:
        tokens = tokens.filter(user__username=username)
    token = tokens.first()
    if token is None or not token.user.is_active:
        return None
    _touch(token)
    return token.user


def _basic_credentials(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed(400, "Authorization header: Basic credentials are not valid base64") from None
    username, sep, secret = decoded.partition(":")
    if not sep or not username:
        raise AuthenticationFailed(400, "Authorization header: Basic credentials must be 'username:token'")
    return username, secret


def user_from_authorization(header: str | None):
    """The caller named by an ``Authorization`` header: a user, or AnonymousUser without a header."""
    if not header:
        return AnonymousUser()
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        username, secret = _basic_credentials(value)
        user = user_for_token(secret, username) if secret else None
        if user is None:
            raise AuthenticationFailed(401, f"invalid username or token for '{username}'")
        return user
    if scheme == "token":
        secret = value.strip()
        if not secret or " " in secret:
            raise AuthenticationFailed(400, "Authorization header: expected 'Token <secret>'")
        user = user_for_token(secret)
        if user is None:
            raise AuthenticationFailed(401, "invalid token")
        return user
    raise AuthenticationFailed(400, f"Authorization header: unsupported scheme '{scheme}' (use Basic or Token)")
