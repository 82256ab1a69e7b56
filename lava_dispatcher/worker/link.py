"""The worker's end of the link to lava-master: DEALER socket, hello, heartbeats, reconnects.

States: ``down`` (waiting for the back-off to pass), ``hello`` (connected, hello
sent, waiting for hello-ok) and ``ready``. Only ``ready`` lets job messages
through; anything not sent then is re-sent by the protocol's own rules
(start is repeated by the master, logs go again from the acknowledged line,
end goes again every heartbeat).

The socket is IMMEDIATE: nothing is queued while no connection exists, so a
master that comes back never receives a pile of stale messages, and ZeroMQ's
own TCP reconnects (every 0.1 s, backing off to 5 s) find it again quickly.
The silence timer only starts once a message could actually be sent: a
master that is down keeps the same socket trying, while one that is up but
does not answer gets the socket closed and reopened with the back-off.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

from lava_common import __version__
from lava_common.protocol import (
    DEFAULT_HEARTBEAT,
    OFFLINE_AFTER_HEARTBEATS,
    ProtocolError,
    decode,
    encode,
)
from lava_common.worker_identity import routing_identity

LOG = logging.getLogger("lava-worker")

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
MIN_HEARTBEAT = 0.05  # the master says how often; below this it would only burn CPU
TCP_RECONNECT_MS = (100, 5000)  # ZeroMQ's own reconnect interval, first and largest
UNSENT_RETRY = 0.1  # seconds between attempts to send the hello while no connection exists


# what a failed CURVE handshake means for the person reading the worker's log
HANDSHAKE_FAILURES = {
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "the master refused this worker's key: is its public key recorded "
    "on the server for a worker named {name!r}?",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "the handshake with the master failed: is --master-cert the "
    "master's public key, and does the master use CURVE too?",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "the handshake with the master failed: is --master-cert the "
    "master's public key, and does the master use CURVE too?",
}


class Refused(Exception):
    """The master refused this worker (version mismatch, ...)."""


@dataclass
class CurveKeys:
    public: str  # this worker's
    secret: str
    server: str  # the master's public key


class MasterLink:
    def __init__(self, url: str, name: str, heartbeat: float = DEFAULT_HEARTBEAT, keys: CurveKeys | None = None):
        self.url = url
        self.name = name
        self.heartbeat = heartbeat
        self.keys = keys
        self.context = zmq.Context.instance()
        self.socket: zmq.Socket[bytes] | None = None
        self.monitor: zmq.Socket[bytes] | None = None
        self._handshake_warned = False
        self.state = "down"
        self.backoff = BACKOFF_FIRST
        self.next_attempt = 0.0
        self.last_received = 0.0
        self.last_heartbeat = 0.0  # hello or heartbeat: other traffic does not count, the master may want both
        self.opened_at = 0.0
        self.clock_start: float | None = None  # when a message first went out on this socket
        self._unreachable_warned = False
        self.hello_count = 0  # hello-ok answers so far: each may come from a restarted master

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    # connection
    def _open(self, now: float) -> None:
        sock = self.context.socket(zmq.DEALER)
        sock.setsockopt(zmq.IDENTITY, routing_identity(self.name))  # new per socket: see worker_identity
        sock.setsockopt(zmq.LINGER, 0)  # a dead master must not hold close() up
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.RECONNECT_IVL, TCP_RECONNECT_MS[0])
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, TCP_RECONNECT_MS[1])
        if self.keys is not None:
            sock.curve_publickey = self.keys.public.encode("ascii")
            sock.curve_secretkey = self.keys.secret.encode("ascii")
            sock.curve_serverkey = self.keys.server.encode("ascii")
        self.monitor = sock.get_monitor_socket(sum(HANDSHAKE_FAILURES))
        sock.connect(self.url)
        self.socket = sock
        self.state = "hello"
        self.opened_at = now
        self.clock_start = None
        self.last_heartbeat = 0.0  # the hello goes at once
        self._unreachable_warned = False
        LOG.info("connecting to %s as %r", self.url, self.name)

    def _close_socket(self) -> None:
        if self.socket is not None:
            self.socket.disable_monitor()
            self.socket.close(linger=0)
            self.socket = None
        if self.monitor is not None:
            self.monitor.close(linger=0)
            self.monitor = None

    def close(self, now: float, reason: str) -> None:
        """Drop the connection; the next attempt comes after the back-off."""
        self._close_socket()
        self.state = "down"
        self.next_attempt = now + self.backoff
        LOG.warning("link to the master down (%s); reconnecting in %.0f s", reason, self.backoff)
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def shutdown(self) -> None:
        self._close_socket()
        self.state = "down"

    # sending
    def _send_now(self, kind: str, now: float, **fields: Any) -> bool:
        assert self.socket is not None
        try:
            self.socket.send(encode(kind, **fields), zmq.NOBLOCK)
        except zmq.Again:
            return False  # queue full while the master is away: the protocol re-sends
        if kind in ("hello", "heartbeat"):
            self.last_heartbeat = now
        if self.clock_start is None:
            self.clock_start = now
        return True

    def send(self, kind: str, **fields: Any) -> bool:
        """Send a job message; False when there is no connection (the protocol re-sends)."""
        if self.socket is None:
            return False
        return self._send_now(kind, time.monotonic(), **fields)

    # receiving
    def receive(self, now: float) -> list[dict[str, Any]]:
        """Messages waiting on the socket; handles hello-ok and refused itself.

        Raises Refused when the master refuses this worker.
        """
        self._check_handshake()
        messages: list[dict[str, Any]] = []
        while self.socket is not None:
            try:
                frame = self.socket.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            self.last_received = now
            try:
                message = decode(frame)
            except ProtocolError as exc:
                LOG.error("ignoring a malformed message from the master: %s", exc)
                continue
            if message["type"] == "hello-ok":
                self._hello_ok(message)
            elif message["type"] == "heartbeat-ok":
                pass  # proof of life: last_received is all it changes
            elif message["type"] == "refused":
                reason = str(message.get("reason"))
                self.close(now, f"refused: {reason}")
                raise Refused(reason)
            else:
                messages.append(message)
        return messages

    def _check_handshake(self) -> None:
        while self.monitor is not None and self.monitor.poll(0):
            event = recv_monitor_message(self.monitor)["event"]
            if event in HANDSHAKE_FAILURES and not self._handshake_warned:
                self._handshake_warned = True  # zmq retries on its own: say it once, not every 100 ms
                LOG.error(HANDSHAKE_FAILURES[event].format(name=self.name))
            if event in HANDSHAKE_FAILURES and self.clock_start is None:
                self.clock_start = time.monotonic()  # reachable but refused: reopen with the back-off

    def _hello_ok(self, message: dict[str, Any]) -> None:
        try:
            heartbeat = float(message["heartbeat"])
        except (TypeError, ValueError):
            heartbeat = self.heartbeat
        self.heartbeat = max(heartbeat, MIN_HEARTBEAT)
        if self.state != "ready":
            LOG.info("connected to the master (heartbeat %g s)", self.heartbeat)
        self.state = "ready"
        self._handshake_warned = False
        self.backoff = BACKOFF_FIRST
        self.hello_count += 1

    # timers
    def tick(self, now: float, jobs: list[dict[str, Any]]) -> None:
        """Connect when due, heartbeat, and give up on a silent master."""
        if self.state == "down":
            if now < self.next_attempt:
                return
            self._open(now)
        self._check_handshake()
        if self.clock_start is not None:
            silence = now - max(self.last_received, self.clock_start)
            if silence > OFFLINE_AFTER_HEARTBEATS * self.heartbeat:
                what = "no hello-ok" if self.state == "hello" else "no message"
                self.close(now, f"{what} from the master for {silence:.1f} s")
                return
        else:
            silence = 0.0
            if not self._unreachable_warned and now - self.opened_at > OFFLINE_AFTER_HEARTBEATS * self.heartbeat:
                self._unreachable_warned = True
                LOG.warning("the master at %s does not accept connections yet; still trying", self.url)
        if self.state == "hello" and self.clock_start is None:
            self._send_now("hello", now, version=__version__, jobs=jobs)  # as soon as a connection exists
        elif now - self.last_heartbeat >= self.heartbeat:
            if self.state == "hello" or silence > 2 * self.heartbeat:
                # hello is the one message the master always answers: a probe before declaring it dead
                self._send_now("hello", now, version=__version__, jobs=jobs)
            else:
                self._send_now("heartbeat", now, jobs=jobs)

    def wait_time(self, now: float) -> float:
        """Seconds until tick() has something to do."""
        if self.state == "down":
            return max(0.0, self.next_attempt - now)
        if self.clock_start is None:
            return UNSENT_RETRY
        deadline = min(self.last_heartbeat + self.heartbeat,
                       max(self.last_received, self.clock_start) + OFFLINE_AFTER_HEARTBEATS * self.heartbeat)
        return max(0.0, deadline - now)
