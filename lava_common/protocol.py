"""Messages of the worker link (see doc/worker-protocol.md).

One ZeroMQ frame of UTF-8 JSON per message, with the protocol version and a
type; ``decode`` checks both and the fields the type needs, so a handler
never sees a malformed message.
"""

import json
from typing import Any

PROTOCOL_VERSION = 1
DEFAULT_HEARTBEAT = 5.0  # seconds
OFFLINE_AFTER_HEARTBEATS = 3
LOG_BATCH_LINES = 1000
LOG_BATCH_SECONDS = 0.1
CANCEL_KILL_AFTER = 30.0

# fields each message type must carry
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "hello": ("version", "jobs"),
    "heartbeat": ("jobs",),
    "start-ok": ("job_id",),
    "start-failed": ("job_id", "error"),
    "logs": ("job_id", "start", "lines"),
    "end": ("job_id", "result", "error_type", "error_msg", "errors", "description", "log_lines"),
    "hello-ok": ("heartbeat",),
    "heartbeat-ok": (),
    "refused": ("reason",),
    "start": ("job_id", "definition", "device", "dispatcher", "env", "env_dut"),
    "cancel": ("job_id",),
    "logs-ok": ("job_id", "count"),
    "end-ok": ("job_id",),
}


class ProtocolError(ValueError):
    """A frame that is not a valid message of this protocol."""


def encode(kind: str, **fields: Any) -> bytes:
    if kind not in REQUIRED_FIELDS:
        raise ProtocolError(f"unknown message type {kind!r}")
    missing = [name for name in REQUIRED_FIELDS[kind] if name not in fields]
    if missing:
        raise ProtocolError(f"{kind}: missing {', '.join(missing)}")
    return json.dumps({"v": PROTOCOL_VERSION, "type": kind, **fields}, ensure_ascii=False).encode("utf-8")


def decode(frame: bytes) -> dict[str, Any]:
    try:
        message = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    if message.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {message.get('v')!r}, expected {PROTOCOL_VERSION}")
    kind = message.get("type")
    if kind not in REQUIRED_FIELDS:
        raise ProtocolError(f"unknown message type {kind!r}")
    missing = [name for name in REQUIRED_FIELDS[kind] if name not in message]
    if missing:
        raise ProtocolError(f"{kind}: missing {', '.join(missing)}")
    if "job_id" in message and not isinstance(message["job_id"], int):
        raise ProtocolError(f"{kind}: job_id must be an integer")
    return message
