"""Talking to a coordinator (ours or Debian's): one request per connection, polling while it says ``wait``.

    client = CoordinatorClient("localhost", 3079, poll_delay=1)
    reply = client.call({"request": "lava_sync", "messageID": "ready", ...}, timeout=90, what="lava-sync ready")

``call`` retries refused connections (a coordinator being restarted) and ``wait`` replies until
``timeout`` seconds have passed, then raises CoordinatorTimeout naming who was still missing;
a ``nack`` raises CoordinatorRefused with the coordinator's reason.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from .wire import DEFAULT_BLOCKSIZE, WireError, encode, read_frame, write_frame


class CoordinatorError(Exception):
    pass


class CoordinatorTimeout(CoordinatorError):
    pass


class CoordinatorRefused(CoordinatorError):
    pass


class CoordinatorClient:
    def __init__(
        self,
        host: str,
        port: int,
        blocksize: int = DEFAULT_BLOCKSIZE,
        poll_delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = host
        self.port = port
        self.blocksize = blocksize
        self.poll_delay = poll_delay
        self._clock = clock
        # a job canceled or past its deadline raises from its signal handler during this sleep
        self._sleep = sleep

    def request(self, data: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send one request and return the reply; OSError or WireError when the coordinator is not there."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            write_frame(sock, data)
            return read_frame(sock, self.blocksize)

    def call(self, data: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        try:
            encode(data)  # a message too long for the wire format fails now, not after the timeout
        except WireError as exc:
            raise CoordinatorRefused(f"{what}: {exc}") from None
        deadline = self._clock() + timeout
        problem = "no reply yet"
        while True:
            try:
                reply = self.request(data, timeout=max(1.0, min(10.0, deadline - self._clock())))
            except (OSError, WireError) as exc:
                problem = f"coordinator {self.host}:{self.port} unreachable: {exc}"
            else:
                response = reply.get("response")
                if response == "nack":
                    raise CoordinatorRefused(f"{what}: refused by the coordinator: {reply.get('error') or reply}")
                if response != "wait":
                    return reply
                problem = _waiting_text(reply)
            if self._clock() + self.poll_delay > deadline:
                raise CoordinatorTimeout(f"{what}: no answer within {timeout:g} s ({problem})")
            self._sleep(self.poll_delay)


def _waiting_text(reply: dict[str, Any]) -> str:
    what = reply.get("message") or "the group"
    missing = reply.get("waiting_for")
    if isinstance(missing, list) and missing:
        return f"waiting for {what} from {', '.join(str(m) for m in missing)}"
    return f"waiting for {what}"
