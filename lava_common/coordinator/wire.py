"""The coordinator's framing, both ways: 8 hex digits giving the length of the JSON text, then the text.

One request and one reply per TCP connection; the body is read in ``blocksize`` chunks.
"""

from __future__ import annotations

import json
import socket
from typing import Any

HEADER_LENGTH = 8
# the reference refuses anything its 4-digit message counters could not describe
MAX_MESSAGE_LENGTH = 0xFFFE
DEFAULT_BLOCKSIZE = 4096


class WireError(Exception):
    """The peer sent something that is not a frame of JSON object."""


def encode(data: dict[str, Any]) -> bytes:
    text = json.dumps(data).encode("utf-8")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise WireError(f"message of {len(text)} bytes is longer than the limit of {MAX_MESSAGE_LENGTH}")
    return b"%08X" % len(text) + text


def decode(frame: bytes) -> dict[str, Any]:
    """Parse one whole frame (header and body)."""
    length = parse_header(frame[:HEADER_LENGTH])
    body = frame[HEADER_LENGTH:]
    if len(body) != length:
        raise WireError(f"frame announces {length} bytes but carries {len(body)}")
    return parse_body(body)


def parse_header(header: bytes) -> int:
    if len(header) != HEADER_LENGTH:
        raise WireError(f"frame header must be {HEADER_LENGTH} hex digits, got {len(header)} bytes")
    try:
        length = int(header.decode("ascii"), 16)
    except (UnicodeDecodeError, ValueError):
        raise WireError(f"frame header {header!r} is not {HEADER_LENGTH} hex digits") from None
    if length > MAX_MESSAGE_LENGTH:
        raise WireError(f"message of {length} bytes is longer than the limit of {MAX_MESSAGE_LENGTH}")
    return length


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"message is not JSON text: {exc}") from None
    if not isinstance(data, dict):
        raise WireError(f"message must be a JSON object, got {type(data).__name__}")
    return data


def _read_exactly(sock: socket.socket, count: int, blocksize: int) -> bytes:
    chunks = []
    while count > 0:
        chunk = sock.recv(min(blocksize, count))
        if not chunk:
            raise WireError(f"connection closed with {count} bytes of the frame still missing")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket, blocksize: int = DEFAULT_BLOCKSIZE) -> dict[str, Any]:
    length = parse_header(_read_exactly(sock, HEADER_LENGTH, HEADER_LENGTH))
    return parse_body(_read_exactly(sock, length, blocksize))


def write_frame(sock: socket.socket, data: dict[str, Any]) -> None:
    sock.sendall(encode(data))
