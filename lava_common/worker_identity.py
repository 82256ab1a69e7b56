"""The routing identity a worker's socket shows lava-master: ``NAME/NONCE``, new for every connection.

lava-master sends each worker's messages to the routing identity of the last
message it authenticated for that worker, and ZeroMQ lets a new connection
that presents an identity already in use take it over. With the name alone as
identity, any peer could take a worker's identity, and with it the jobs the
master sends there. The nonce, random per connection and travelling inside the
encrypted CURVE handshake, makes an identity that only its own connection
knows. The name is the worker's claim, checked by the master against the
worker its key belongs to.
"""

from __future__ import annotations

import secrets
import string

NONCE_BYTES = 16
# a ZeroMQ routing identity is at most 255 bytes: the name, "/" and the hex nonce must fit
MAX_NAME_BYTES = 255 - 1 - 2 * NONCE_BYTES


def routing_identity(name: str) -> bytes:
    """A fresh identity for one connection of the worker ``name``."""
    encoded = name.encode("utf-8")
    if not encoded or len(encoded) > MAX_NAME_BYTES or b"/" in encoded:
        raise ValueError(f"worker name {name!r}: 1 to {MAX_NAME_BYTES} bytes, without '/'")
    return encoded + b"/" + secrets.token_hex(NONCE_BYTES).encode("ascii")


def claimed_name(identity: bytes) -> str | None:
    """The worker name an identity claims, or None when it is not ``NAME/NONCE`` (an older or foreign peer)."""
    name, separator, nonce = identity.rpartition(b"/")
    if not separator or not name or len(nonce) != 2 * NONCE_BYTES:
        return None
    if not all(chr(byte) in string.hexdigits for byte in nonce):
        return None
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return None
