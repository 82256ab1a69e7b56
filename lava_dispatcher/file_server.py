"""Serve one file to the board over HTTP for the time of one action: a fresh port, a random path.

The board fetches it at ``http://<dispatcher_ip>:<port>/<random token>/<file name>``; every other
path gets a 404, and the server is gone when the ``with`` block ends.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lava_dispatcher.logger import JobLogger


@contextmanager
def serve_file(path: Path, host_ip: str, logger: JobLogger) -> Iterator[str]:
    """The file's URL, valid until the block ends."""
    route = f"/{secrets.token_hex(16)}/{path.name}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != route:
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt: str, *args: Any) -> None:
            logger.debug(f"file server: {self.address_string()} {fmt % args}")

    server = ThreadingHTTPServer(("", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name=f"serve-{path.name}", daemon=True)
    thread.start()
    try:
        yield f"http://{host_ip}:{server.server_address[1]}{route}"
    finally:
        server.shutdown()
        server.server_close()
