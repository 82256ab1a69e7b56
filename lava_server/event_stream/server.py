"""The publisher daemon: internal PULL -> ZeroMQ PUB and websocket clients.

One asyncio loop. Database work (who a client is, what it may see) runs in
worker threads, once per event and distinct user. A client that does not
keep up (``CLIENT_QUEUE`` messages behind) is disconnected rather than
slowing everyone. ``http_upstream`` makes the websocket port a small front
for the web server too (anything but ``/ws/`` is relayed there), for labs
without apache, so that ``lavacli`` finds ``/RPC2`` and ``/ws/`` on one port.
"""

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import zmq
import zmq.asyncio
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, close_old_connections

from lava_scheduler.publisher.messages import TOPIC_PREFIX
from lava_server.auth.tokens import AuthenticationFailed, user_from_authorization
from lava_server.event_stream import websocket
from lava_server.event_stream.access import may_see
from lava_server.login_gate import REFUSAL, refuses

log = logging.getLogger("lava-publisher")

CLIENT_QUEUE = 1000
MAX_HEAD = 16384
HEALTHZ = b'{"health": "good"}'


@dataclass(eq=False)
class Client:
    user: Any
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(CLIENT_QUEUE))


def _in_thread(function, *args):
    def run():
        close_old_connections()
        return function(*args)

    return asyncio.to_thread(run)


def _authenticate(header: str | None):
    user = user_from_authorization(header)
    if refuses(user):
        raise AuthenticationFailed(401, REFUSAL)
    return user


def _visible_to(users: dict[Any, Any], kind: str, data: dict) -> set:
    return {key for key, user in users.items() if may_see(user, kind, data)}


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ") + ["", "", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


def _response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


class Publisher:
    def __init__(self, internal: str, pub: str, websocket_bind: str, http_upstream: str = ""):
        self.internal, self.pub_address, self.websocket_bind = internal, pub, websocket_bind
        upstream = urlsplit(http_upstream) if http_upstream else None
        self.upstream = (upstream.hostname, upstream.port or 80) if upstream else None
        self.clients: set[Client] = set()
        self.context = zmq.asyncio.Context.instance()
        self.pull = self.pub = None
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.pull = self.context.socket(zmq.PULL)
        self.pull.setsockopt(zmq.RCVHWM, 10000)
        self.pull.bind(self.internal)
        if self.pub_address:
            self.pub = self.context.socket(zmq.PUB)
            self.pub.setsockopt(zmq.SNDHWM, 10000)
            self.pub.setsockopt(zmq.HEARTBEAT_IVL, 5000)
            self.pub.setsockopt(zmq.HEARTBEAT_TIMEOUT, 15000)
            self.pub.bind(self.pub_address)
        if self.websocket_bind:
            host, _, port = self.websocket_bind.rpartition(":")
            self.server = await asyncio.start_server(self._connection, host or "127.0.0.1", int(port))

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for sock in (self.pull, self.pub):
            if sock is not None:
                sock.close(0)

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        log.info("events from %s to %s and ws://%s/ws/", self.internal, self.pub_address or "-", self.websocket_bind)
        try:
            while not stop.is_set():
                if await self.pull.poll(500):
                    await self.dispatch(await self.pull.recv_multipart())
        finally:
            self.close()

    async def dispatch(self, frames: list[bytes]) -> None:
        try:
            topic, _, _, _, payload = (f.decode("utf-8") for f in frames)
            data = json.loads(payload)
            if not isinstance(data, dict):
                raise ValueError("the data is not a JSON object")
        except (ValueError, UnicodeDecodeError):
            log.warning("dropping a malformed event (%d frames)", len(frames))
            return
        kind = topic.removeprefix(TOPIC_PREFIX)
        # whose view to check: each connected user, and anonymous for the PUB socket and anonymous clients
        users: dict[Any, Any] = {c.user.pk: c.user for c in self.clients if c.user.is_authenticated}
        if self.pub is not None or any(not c.user.is_authenticated for c in self.clients):
            users["anonymous"] = AnonymousUser()
        try:
            allowed = await _in_thread(_visible_to, users, kind, data) if users else set()
        except DatabaseError as exc:
            log.error("dropping a %s event: cannot check who may see it (%s)", kind, exc)
            return
        if self.pub is not None and "anonymous" in allowed:
            await self.pub.send_multipart(frames)
        message = json.dumps([f.decode("utf-8") for f in frames]).encode()
        for client in list(self.clients):
            key = client.user.pk if client.user.is_authenticated else "anonymous"
            if key not in allowed:
                continue
            try:
                client.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("a websocket client of %s is too slow: disconnected", client.user)
                self.clients.discard(client)
                while not client.queue.empty():
                    client.queue.get_nowait()
                client.queue.put_nowait(None)  # tells its connection to close

    # one TCP connection on the websocket port

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        try:
            _, path, headers = _parse_head(head)
            route = path.split("?", 1)[0]
            if route.endswith("/ws/v1/healthz"):
                writer.write(_response("200 OK", HEALTHZ))
            elif route.endswith("/ws/") or route.endswith("/ws"):
                await self._websocket(reader, writer, headers)
            elif self.upstream is not None:
                await self._relay(head, reader, writer)
            else:
                writer.write(_response("404 Not Found", b'{"error": "no such path"}'))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, websocket.WebSocketError) as exc:
            log.debug("connection ended: %s", exc)
        finally:
            writer.close()

    async def _websocket(self, reader, writer, headers: dict[str, str]) -> None:
        key = headers.get("sec-websocket-key")
        if headers.get("upgrade", "").lower() != "websocket" or not key:
            writer.write(_response("400 Bad Request", b'{"error": "a websocket upgrade is expected here"}'))
            return
        try:
            user = await _in_thread(_authenticate, headers.get("authorization"))
        except AuthenticationFailed as exc:
            status = "401 Unauthorized" if exc.status == 401 else "400 Bad Request"
            writer.write(_response(status, json.dumps({"error": exc.message}).encode()))
            return
        writer.write(websocket.handshake_response(key))
        client = Client(user)
        self.clients.add(client)
        reading = asyncio.ensure_future(self._read_client(reader, writer))
        try:
            while not reading.done():
                getting = asyncio.ensure_future(client.queue.get())
                done, _ = await asyncio.wait({getting, reading}, return_when=asyncio.FIRST_COMPLETED)
                if getting not in done:
                    getting.cancel()
                    break
                message = getting.result()
                if message is None:
                    break
                writer.write(websocket.frame(websocket.TEXT, message))
                await writer.drain()
        finally:
            self.clients.discard(client)
            reading.cancel()

    async def _read_client(self, reader, writer) -> None:
        while True:
            opcode, payload = await websocket.read_frame(reader)
            if opcode == websocket.PING:
                writer.write(websocket.frame(websocket.PONG, payload))
            elif opcode == websocket.CLOSE:
                writer.write(websocket.frame(websocket.CLOSE, payload[:2]))
                return

    async def _relay(self, head: bytes, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        up_writer.write(head)

        async def pipe(source, target) -> None:
            try:
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            finally:
                if target.can_write_eof():
                    target.write_eof()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
        finally:
            up_writer.close()
