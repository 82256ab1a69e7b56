"""Where lava-master may listen without CURVE: an ``ipc://`` socket in a directory only the lab's users enter.

Without CURVE the master cannot tell workers apart: whoever reaches its socket
may speak for every worker and receive every worker's jobs. A ``tcp://``
address on loopback is no boundary for that: every process on the host
reaches it, and so does a QEMU guest with user networking (its gateway is the
host's loopback). A unix socket is reached only by those who may enter its
directory, so plain text is allowed there, once the directory is the master's
own and closed to others. Plain text over TCP needs an explicit override, and
only ever on loopback.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from urllib.parse import urlsplit


class PlaintextRefused(ValueError):
    """An address where plain text would let others speak for the workers."""


def is_loopback(address: str) -> bool:
    host = urlsplit(address).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ipc_path(address: str) -> Path | None:
    """The file of an ``ipc://`` address, None for other transports."""
    if not address.startswith("ipc://"):
        return None
    return Path(address[len("ipc://"):])


def check_plaintext_bind(address: str, allow_tcp: bool = False) -> None:
    """Raise PlaintextRefused unless ``address`` may carry the worker link in plain text."""
    path = ipc_path(address)
    if path is not None:
        check_socket_dir(path)
        return
    if not address.startswith("tcp://"):
        raise PlaintextRefused(f"{address}: plain text needs an ipc:// socket; use CURVE keys for other transports")
    if not is_loopback(address):
        raise PlaintextRefused(f"{address} is not a loopback address: use CURVE keys (--master-cert)")
    if not allow_tcp:
        raise PlaintextRefused(
            f"{address}: plain text over TCP lets every process on this host, and any QEMU guest with user "
            "networking, speak for every worker; use an ipc:// socket in a directory only the lab's users may "
            "enter (ipc:///run/lava-master/master.sock), or CURVE keys (--master-cert); "
            "--allow-plaintext-tcp overrides this on loopback"
        )


def check_socket_dir(socket_path: Path) -> None:
    """The socket's directory must belong to this process's user and be closed to others; made (0700) if missing."""
    if str(socket_path).startswith("@"):
        raise PlaintextRefused(f"ipc://{socket_path}: an abstract socket has no file permissions; use a path")
    directory = socket_path.absolute().parent
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
        info = directory.stat()
    except OSError as exc:
        raise PlaintextRefused(f"socket directory {directory}: {exc.strerror or exc}") from None
    if info.st_uid != os.geteuid():
        raise PlaintextRefused(
            f"socket directory {directory} belongs to uid {info.st_uid}, not to this master's user "
            f"(uid {os.geteuid()}): whoever owns it can let anyone in"
        )
    if info.st_mode & 0o007:
        raise PlaintextRefused(
            f"socket directory {directory} has mode {stat.S_IMODE(info.st_mode):04o}: others may enter it and "
            f"speak for any worker; chmod o-rwx {directory} (give workers access through its group)"
        )


def open_socket_to_directory_members(socket_path: Path) -> None:
    """After bind: the directory decides who connects, so the socket itself is left open to all who reach it.

    Connecting needs write permission on the socket file, and a worker is
    normally in the directory's group but not in the master's.
    """
    os.chmod(socket_path, 0o666)
