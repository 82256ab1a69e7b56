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

import copy
import os
import threading
import time
from pathlib import Path

from django.conf import settings

REMEMBER_FOR = 10.0
MOST_REMEMBERED = 10_000

_lock = threading.Lock()
# SHA-256 of the secret -> (until when, generation when verified, user)
_remembered: dict[str, tuple[float, int, object]] = {}


def _generation_file() -> Path:
    return Path(settings.STATE_DIR) / "auth-generation"


def _generation() -> int:
    try:
        return os.stat(_generation_file()).st_mtime_ns
    except OSError:
        return 0


def recall(digest: str):
    """The user a token was verified for a moment ago, or None."""
    entry = _remembered.get(digest)
    if entry is None:
        return None
    until, generation, user = entry
    if time.monotonic() > until or generation != _generation():
        _remembered.pop(digest, None)
        return None
    # a copy per request: Django caches a user's permissions on the object, and threads share this one
    fresh = copy.copy(user)
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        fresh.__dict__.pop(cache, None)
    return fresh


def remember(digest: str, user) -> None:
    with _lock:
        if len(_remembered) >= MOST_REMEMBERED:
            _remembered.clear()
        _remembered[digest] = (time.monotonic() + REMEMBER_FOR, _generation(), user)


def forget_all(**_) -> None:
    """Every web process on this host forgets the tokens it verified (a signal receiver)."""
    _remembered.clear()
    previous, now = _generation(), time.time_ns()
    try:
        _generation_file().touch()
        # two changes within the file system's clock resolution must still differ
        os.utime(_generation_file(), ns=(now, max(now, previous + 1)))
    except OSError:
        pass
