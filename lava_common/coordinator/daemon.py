"""The lava-coordinator daemon: a TCP server feeding one Broker, one request per connection.

    python -m lava_common.coordinator [--config FILE] [--logfile FILE|-] [--loglevel INFO]
                                      [--listen ADDRESS] [--port N]

The broker holds groups in memory only: restarting the daemon while no group runs loses nothing,
and clients retry refused connections for as long as their own timeout allows.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import socketserver
import sys
import threading
from pathlib import Path

from .broker import LOG, Broker
from .config import DEFAULT_PATH, ConfigError, CoordinatorConfig, load_config
from .wire import WireError, read_frame, write_frame

# a client that connects and says nothing must not hold a thread for ever
CONNECTION_TIMEOUT = 30.0


class _Handler(socketserver.BaseRequestHandler):
    server: CoordinatorServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(CONNECTION_TIMEOUT)
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        try:
            request = read_frame(sock, self.server.config.blocksize)
        except (WireError, OSError) as exc:
            LOG.warning("%s: bad request: %s", peer, exc)
            self._reply({"response": "nack", "error": f"bad request: {exc}"})
            return
        LOG.debug("%s: %s", peer, request)
        with self.server.lock:
            reply = self.server.broker.handle(request)
        self._reply(reply)

    def _reply(self, reply: dict) -> None:
        try:
            write_frame(self.request, reply)
        except (WireError, OSError) as exc:
            LOG.warning("%s:%s: reply lost: %s", *self.client_address, exc)


class CoordinatorServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: CoordinatorConfig, broker: Broker | None = None) -> None:
        self.config = config
        self.broker = broker or Broker()
        self.lock = threading.Lock()
        super().__init__(address, _Handler)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lava-coordinator", description="LAVA MultiNode message broker")
    parser.add_argument("--config", type=Path, default=DEFAULT_PATH, help="JSON configuration file")
    parser.add_argument("--logfile", default="/var/log/lava-coordinator.log", help="log file, '-' for stderr")
    parser.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--listen", default="", help="address to listen on (default: every address)")
    parser.add_argument("--port", type=int, help="TCP port (default: the configuration file's, else 3079)")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        config = load_config(options.config)
    except ConfigError as exc:
        print(f"lava-coordinator: {exc}", file=sys.stderr)
        return 2
    try:
        handler: logging.Handler = (
            logging.StreamHandler() if options.logfile == "-" else logging.FileHandler(options.logfile)
        )
    except OSError as exc:
        print(f"lava-coordinator: cannot open log file {options.logfile}: {exc.strerror}", file=sys.stderr)
        return 2
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(options.loglevel)
    port = options.port if options.port is not None else config.port
    try:
        server = CoordinatorServer((options.listen, port), config)
    except OSError as exc:
        LOG.error("cannot listen on %s:%d: %s", options.listen or "*", port, exc.strerror)
        return 1
    # SIGTERM (systemd, init script) must end serve_forever cleanly, from another thread
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    # a closed FileHandler reopens its file at the next record: SIGHUP follows a rotated log
    signal.signal(signal.SIGHUP, lambda *_: handler.close())
    LOG.info("listening on %s:%d", options.listen or "*", server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        LOG.info("stopped")
    return 0
