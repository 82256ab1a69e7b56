"""``lava-server manage lava-publisher``: the lab's event stream (ZeroMQ PUB and websockets)."""

import asyncio
import logging
import signal

import zmq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lava_server.event_stream.server import Publisher


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # see lava_scheduler.commandline
    help = "Publish job, device, worker and test-case events (ZeroMQ PUB and /ws/ websockets)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--internal", default=settings.EVENT_INTERNAL, help="PULL address (default %(default)s)")
        parser.add_argument("--pub", default=settings.EVENT_SOCKET, help="PUB address (default %(default)s; '' none)")
        parser.add_argument(
            "--websocket", default=settings.EVENT_WEBSOCKET, help="HOST:PORT for /ws/ (default %(default)s; '' none)"
        )
        parser.add_argument(
            "--http-upstream", default="",
            help="relay every other HTTP request to this web server (e.g. http://127.0.0.1:8000), to serve "
                 "/RPC2 and /ws/ on one port without apache",
        )
        parser.add_argument("--level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    def handle(self, internal: str, pub: str, websocket: str, http_upstream: str, level: str, **_) -> None:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        publisher = Publisher(internal, pub, websocket, http_upstream)

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await publisher.run(stop)

        try:
            asyncio.run(main())
        except (zmq.ZMQError, OSError) as exc:
            raise CommandError(f"cannot bind {internal} / {pub} / {websocket}: {exc}") from None
