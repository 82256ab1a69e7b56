"""CURVE key pairs for the worker link (files in the format pyzmq's ``zmq.auth`` reads and writes).

``create_key_pair(dir, name)`` writes ``NAME.key`` (public, to give to the
other side) and ``NAME.key_secret`` (secret, mode 0600, stays on this host).
Both the master and each worker use one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lava_common import file_modes
from lava_common.exceptions import ConfigurationError

# a Z85-encoded CURVE key is 40 characters of this alphabet
_Z85_KEY = re.compile(r"^[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}$")


class KeyFileError(ConfigurationError):
    """A key file that is missing, unreadable or not a CURVE key."""


def create_key_pair(directory: str | os.PathLike[str], name: str) -> tuple[Path, Path]:
    """Write a new key pair; refuses to overwrite an existing one (a lost secret key locks a worker out)."""
    import zmq.auth

    if not name or "/" in name or name.startswith("."):
        raise KeyFileError(f"key name {name!r}: use a plain file name such as the worker's hostname")
    folder = Path(directory)
    public, secret = folder / f"{name}.key", folder / f"{name}.key_secret"
    for path in (public, secret):
        if path.exists():
            raise KeyFileError(f"{path} already exists: remove it first to make a new key pair")
    try:
        file_modes.make_dirs(folder)
        old_umask = os.umask(0o077)  # the secret file must never be readable by others, even briefly
        try:
            public_name, secret_name = zmq.auth.create_certificates(str(folder), name)
        finally:
            os.umask(old_umask)
        os.chmod(public_name, 0o644)
        os.chmod(secret_name, 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot write a key pair in {folder}: {exc.strerror or exc}") from None
    return Path(public_name), Path(secret_name)


def _load(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    import zmq.auth

    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise KeyFileError(f"{path}: no 'public-key' line; not a key file made by lava-keys") from None
    public_text = public.decode("ascii", "replace")
    if not _Z85_KEY.match(public_text):
        raise KeyFileError(f"{path}: the public key is not 40 Z85 characters")
    secret_text = secret.decode("ascii", "replace") if secret is not None else None
    if secret_text is not None and not _Z85_KEY.match(secret_text):
        raise KeyFileError(f"{path}: the secret key is not 40 Z85 characters")
    return public_text, secret_text


def read_public_key(path: str | os.PathLike[str]) -> str:
    """The Z85 public key (40 characters) of a ``.key`` or ``.key_secret`` file."""
    return _load(path)[0]


def read_key_pair(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(public, secret) from a ``.key_secret`` file."""
    public, secret = _load(path)
    if secret is None:
        raise KeyFileError(f"{path}: no 'secret-key' line; give the .key_secret file, not the public .key")
    return public, secret
