"""The table of XML-RPC methods and the helpers every method module shares.

A method is a plain function taking the call context first, then the XML-RPC
parameters; ``@method("scheduler.jobs.show")`` registers it. Errors a client
should see are raised as ``xmlrpc.client.Fault`` with an HTTP-like code
(400 bad arguments, 401 login needed, 403 not allowed, 404 unknown or
invisible object), as the reference does.
"""

import inspect
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass
class Context:
    user: Any


@dataclass
class Method:
    name: str
    function: Callable[..., Any]
    signature: inspect.Signature

    @property
    def help(self) -> str:
        return inspect.getdoc(self.function) or ""


METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(function)
        # the context is ours, not the client's
        params = list(signature.parameters.values())[1:]
        METHODS[name] = Method(name, function, signature.replace(parameters=params))
        return function

    return register


def fault(code: int, message: str) -> xmlrpc.client.Fault:
    return xmlrpc.client.Fault(code, message)


def require_user(ctx: Context) -> Any:
    if not ctx.user.is_authenticated:
        raise fault(401, "Authentication with a user and an API token is required for this method")
    return ctx.user


def require_admin(ctx: Context, permission: str | None = None) -> Any:
    """A superuser, or a user with ``permission`` (e.g. ``lab.change_device``)."""
    user = require_user(ctx)
    if user.is_superuser or (permission and user.has_perm(permission)):
        return user
    raise fault(403, f"Permission denied: '{user.username}' may not do this" +
                (f" (needs {permission})" if permission else " (superusers only)"))


def require_right(ctx: Context, allowed: Callable[[Any], bool], what: str) -> Any:
    """The caller if ``allowed(user)`` (a rule of ``config_access``): Fault 401 when anonymous, 403 otherwise."""
    user = require_user(ctx)
    if not allowed(user):
        raise fault(403, f"Permission denied: '{user.username}' may not read {what}")
    return user


def naive_utc(value: datetime | None) -> datetime | None:
    """A datetime xmlrpc.client marshals as dateTime.iso8601 in UTC (it ignores time zones)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def text_or_none(value: str | None) -> str | None:
    return value if value else None


def as_bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool | int):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise fault(400, f"{name}: expected a boolean, got {value!r}")


def as_int(value: Any, name: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool):
        raise fault(400, f"{name}: expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite double
        raise fault(400, f"{name}: expected an integer, got {value!r}") from None


def as_text(value: Any, name: str) -> str:
    if isinstance(value, xmlrpc.client.Binary):
        return value.data.decode("utf-8", errors="replace")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise fault(400, f"{name}: expected a string, got {type(value).__name__}")
    return value
