"""``/ws/`` on the web port of a lab without apache: the upgrade and its frames go to lava-publisher.

lavacli opens its event websocket at ``<root>/ws/`` of the URI it submits
to; apache relays it to lava-publisher in a packaged lab. Under gunicorn
(``./lab.sh``) this middleware takes the client's socket for such a request,
replays the request head to the publisher's websocket listener and copies
bytes both ways until either side closes. Every other request costs one
string comparison. The connection holds one gunicorn thread while it lasts.
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Callable, Iterable
from typing import Any

PATH = "/ws/"
CHUNK = 65536


def _request_head(environ: dict[str, Any]) -> bytes:
    target = environ.get("RAW_URI") or environ.get("PATH_INFO", PATH)
    lines = [f"{environ.get('REQUEST_METHOD', 'GET')} {target} HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            lines.append(f"{key[5:].replace('_', '-').title()}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    peers = {client: upstream, upstream: client}
    with selectors.DefaultSelector() as selector:
        for side in peers:
            selector.register(side, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                data = key.fileobj.recv(CHUNK)  # type: ignore[union-attr]
                if not data:
                    return
                peers[key.fileobj].sendall(data)  # type: ignore[index]


class WebsocketRelay:
    def __init__(self, app: Callable, upstream: str) -> None:
        self.app = app
        host, _, port = upstream.rpartition(":")
        self.upstream = (host or "127.0.0.1", int(port))

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        client = environ.get("gunicorn.socket")
        if (environ.get("PATH_INFO") != PATH or client is None
                or environ.get("HTTP_UPGRADE", "").lower() != "websocket"):
            return self.app(environ, start_response)
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"the event publisher (lava-publisher) is not running\n"]
        with upstream:
            upstream.settimeout(None)
            client.settimeout(None)
            try:
                upstream.sendall(_request_head(environ))
                _pipe(client, upstream)
            except OSError:
                pass  # either side went away: the websocket is over
        # the connection was the websocket's: gunicorn must not answer on it (its write fails quietly)
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        start_response("101 Switching Protocols", [("Connection", "close")])
        return []
