"""``scheduler.remote_artifact_tokens.*``: the caller's own tokens for remote artifact servers (lavacli ``tokens``)."""

from typing import Any

from django.db import IntegrityError, transaction

from lava_server.remote_artifacts.models import RemoteArtifactToken
from lava_server.xmlrpc.registry import Context, as_text, fault, method, require_user


def _token(user, name: Any) -> RemoteArtifactToken:
    found = RemoteArtifactToken.objects.filter(user=user, name=str(name)).first()
    if found is None:
        raise fault(404, f"Token '{name}' was not found.")
    return found


@method("scheduler.remote_artifact_tokens.list")
def list_tokens(ctx: Context) -> list[dict[str, str]]:
    """The caller's tokens as ``[{name, token}]``."""
    user = require_user(ctx)
    return [{"name": t.name, "token": t.token} for t in RemoteArtifactToken.objects.filter(user=user)]


@method("scheduler.remote_artifact_tokens.show")
def show(ctx: Context, name: str) -> str:
    """The token string stored under ``name``."""
    return _token(require_user(ctx), name).token


@method("scheduler.remote_artifact_tokens.add")
def add(ctx: Context, name: str, token: str) -> None:
    """Store ``token`` under ``name`` (a name the caller already uses is refused)."""
    user = require_user(ctx)
    name, token = as_text(name, "name").strip(), as_text(token, "token").strip()
    if not name or not token:
        raise fault(400, "name and token: must not be empty")
    if len(name) > 100 or len(token) > 500:
        raise fault(400, "name (100 characters) or token (500 characters) is too long")
    try:
        with transaction.atomic():
            RemoteArtifactToken.objects.create(user=user, name=name, token=token)
    except IntegrityError:
        raise fault(400, f"Token '{name}' already exists.") from None


@method("scheduler.remote_artifact_tokens.delete")
def delete(ctx: Context, name: str) -> None:
    _token(require_user(ctx), name).delete()
