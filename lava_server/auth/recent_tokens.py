"""Tokens verified a moment ago, remembered by each web process.

lavacli and scripts send their token with every call; looking it up is a
database round trip that cost more than a whole ``jobs.validate``. A verified
token is remembered for ``REMEMBER_FOR`` seconds. Deleting a token or saving a
user (deactivation, a new password) touches a file in the state directory
whose modification time every lookup compares (one ``stat``), so on this host
the change applies at the next call; web processes on other hosts apply it
when their memory of the token expires.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db.models.base import ModelState

REMEMBER_FOR = 10.0
MOST_REMEMBERED = 10_000

_lock = threading.Lock()
# SHA-256 of the secret -> (until when, generation when verified, user)
_remembered: dict[str, tuple[float, int, object]] = {}


def _generation_file() -> Path:
    return Path(settings.STATE_DIR) / "auth-generation"


def generation() -> int:
    """The host's count of credential changes: read it before looking a token up, and pass it to remember()."""
    try:
        # a plain string: building a Path cost twice the stat itself, on every API call
        return os.stat(os.path.join(settings.STATE_DIR, "auth-generation")).st_mtime_ns
    except OSError:
        return 0


def _fresh_copy(user):
    """A copy of a user just loaded from the database: what copy.copy() makes, fifteen times cheaper.

    Each request gets its own, and the one remembered is never handed out:
    Django caches permissions on a user object (and the permission rules its
    groups), which must neither outlive the request nor cross threads.
    """
    fresh = user.__class__.__new__(user.__class__)
    fresh.__dict__ = {key: value for key, value in user.__dict__.items() if key != "_state"}
    fresh._state = ModelState()
    fresh._state.db, fresh._state.adding = user._state.db, False
    return fresh


def recall(digest: str):
    """The user a token was verified for a moment ago, or None."""
    entry = _remembered.get(digest)
    if entry is None:
        return None
    until, verified_in, user = entry
    if time.monotonic() > until or verified_in != generation():
        _remembered.pop(digest, None)
        return None
    return _fresh_copy(user)


def remember(digest: str, user, verified_in: int) -> None:
    """Remember ``user`` for the token; ``verified_in``: generation() read before the database was,
    so that a change made while the token was being checked is not hidden."""
    with _lock:
        if len(_remembered) >= MOST_REMEMBERED:
            _remembered.clear()
        _remembered[digest] = (time.monotonic() + REMEMBER_FOR, verified_in, _fresh_copy(user))


def forget_all(**_) -> None:
    """Every web process on this host forgets the tokens it verified (a signal receiver)."""
    _remembered.clear()
    previous, now = generation(), time.time_ns()
    try:
        _generation_file().touch()
        # two changes within the file system's clock resolution must still differ
        os.utime(_generation_file(), ns=(now, max(now, previous + 1)))
    except OSError:
        pass
