"""Turning an ``Authorization`` header into a user.

lavacli sends ``Basic base64(username:token)`` on every request; REST clients
send ``Token <secret>``. No header means an anonymous caller. A header that
names a user but holds a wrong token is refused outright (HTTP 401): silently
treating it as anonymous would make "permission denied" errors baffling.
"""

import base64
import binascii
import functools
from datetime import UTC, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone

from lava_server.accounts.models import AuthToken, hash_secret
from lava_server.auth import recent_tokens

# last_used_on is only informative: refreshing it at most once a minute keeps
# an UPDATE off the path of every API call
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AuthenticationFailed(Exception):
    """The header is malformed (``status`` 400) or the credentials are wrong (401)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _touch(token_id: int, last_used_on) -> None:
    now = timezone.now()
    if last_used_on is not None and timezone.is_naive(last_used_on):  # SQLite's raw rows: UTC, naive
        last_used_on = last_used_on.replace(tzinfo=UTC)
    if last_used_on is None or now - last_used_on > LAST_USED_RESOLUTION:
        AuthToken.objects.filter(pk=token_id).update(last_used_on=now)


@functools.cache
def _token_query() -> tuple[str, list[str]]:
    """One indexed query for a token and its user, written once: building it through the
    ORM cost five times the query itself on every API call."""
    user_model = get_user_model()
    columns = [field.column for field in user_model._meta.concrete_fields]
    token_table = connection.ops.quote_name(AuthToken._meta.db_table)
    user_table = connection.ops.quote_name(user_model._meta.db_table)
    user_columns = ", ".join(f"u.{connection.ops.quote_name(c)}" for c in columns)
    sql = (f"SELECT t.id, t.last_used_on, {user_columns} FROM {token_table} t "
           f"JOIN {user_table} u ON u.id = t.user_id WHERE t.secret_sha256 = %s")
    return sql, [field.attname for field in user_model._meta.concrete_fields]


def user_for_token(secret: str, username: str | None = None):
    """The active user owning ``secret`` (and named ``username`` when given), or None."""
    digest = hash_secret(secret)
    user = recent_tokens.recall(digest)
    if user is not None:
        return user if username is None or user.username == username else None
    sql, attnames = _token_query()
    verified_in = recent_tokens.generation()
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, last_used_on, values = row[0], row[1], row[2:]
    user = get_user_model().from_db(connection.alias, attnames, values)
    if not user.is_active or (username is not None and user.username != username):
        return None
    _touch(token_id, last_used_on)
    recent_tokens.remember(digest, user, verified_in)
    return user


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
