"""What the lab writes is for its own user and group, never for the other users of the host.

Job definitions and logs may hold secrets, device dictionaries hold power
and console credentials, the database holds all of it. Entry points tighten
the umask (``restrict_umask``), and the places that make such files also give
their modes explicitly (0640 files, 0750 folders), so a looser umask in a
caller changes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

UMASK = 0o027
FILE_MODE = 0o640
DIR_MODE = 0o750


def restrict_umask() -> None:
    """Make this process create nothing readable by others (a stricter umask stays as it is)."""
    os.umask(os.umask(UMASK) | UMASK)


def make_dirs(path: str | os.PathLike[str]) -> Path:
    """``path`` and any missing parent, each made 0750; existing ones keep their mode."""
    path = Path(path)
    missing = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        owned_like_folder(directory)
    return path


def owned_like_folder(path: str | os.PathLike[str]) -> None:
    """As root (an admin's ``lava-server manage``), give ``path`` its folder's owner and group:
    the lab's daemons, which own that folder, must still read what root wrote there."""
    if os.geteuid() != 0:
        return
    folder = os.stat(os.path.dirname(os.path.abspath(path)))
    os.chown(path, folder.st_uid, folder.st_gid)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a text file, made 0640 if it is new."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def open_append(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a file for appending bytes, made 0640 if it is new."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE), "ab")
