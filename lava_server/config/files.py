"""Where the lab's configuration lives: settings file, state directory, dispatcher config.

Everything is derived from three roots, each overridable by the environment:
``LAVA_SETTINGS`` (settings file), ``LAVA_CONFIG_DIR`` (default ``/etc/lava-server``)
and ``LAVA_STATE_DIR`` (default ``/var/lib/lava-server/default``).
"""

import contextlib
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from lava_common import file_modes
from lava_common.yaml_loader import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def settings_file() -> Path:
    config_dir = Path(os.environ.get("LAVA_CONFIG_DIR", "/etc/lava-server"))
    return Path(os.environ.get("LAVA_SETTINGS", config_dir / "settings.yaml"))


def read_settings_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise SystemExit(
            f"{path}: permission denied; run as root or as a member of the group that may read it (lavaserver)"
        ) from None
    data = load_yaml(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: settings must be a YAML mapping, got {type(data).__name__}")
    return data


def shipped_device_types_dirs() -> list[Path]:
    """Device-type templates shipped with the code, for a checkout, a venv and a Debian install."""
    candidates = [
        REPO_ROOT / "device-types",
        Path(sys.prefix) / "share" / "lava-server" / "device-types",
        Path("/usr/share/lava-server/device-types"),
    ]
    return [path for path in candidates if path.is_dir()]


def secret_key(state_dir: Path) -> str:
    """The secret key kept in the state directory, made on first use."""
    path = state_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    file_modes.make_dirs(state_dir)
    key = secrets.token_urlsafe(50)
    # exclusive create: two processes starting at once must agree on one key
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def database_from_url(url: str) -> dict[str, Any]:
    """``postgresql://user:pass@host:port/name`` or ``sqlite:///path`` as a Django DATABASES entry."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "lava_server.db.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    if parts.scheme == "sqlite":
        return sqlite_database(Path(parts.path))
    raise SystemExit(f"database URL {url!r}: scheme must be postgresql:// or sqlite://")


def sqlite_database(path: Path) -> dict[str, Any]:
    file_modes.make_dirs(path.parent)
    if not path.exists():
        # made here rather than by SQLite, whose mode would follow the umask; its -wal and
        # -shm files take the database's mode
        with contextlib.suppress(OSError):  # e.g. a read-only state directory: SQLite says so when used
            path.touch(mode=file_modes.FILE_MODE)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets the web server read while the scheduler writes; IMMEDIATE avoids
            # deadlocks between two writers upgrading read locks
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
        },
    }
