"""``lava-server manage lava-master``: the endpoint lava-worker processes connect to."""

import ipaddress
import logging
import signal
from urllib.parse import urlsplit

import zmq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lava_scheduler.master.auth import WorkerKeys, start_authenticator
from lava_scheduler.master.server import Master, MasterConfig


def is_loopback(address: str) -> bool:
    host = urlsplit(address).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # see lava_scheduler.commandline
    help = "Run the master: hands jobs to workers over ZeroMQ, stores their logs and results"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", default=settings.MASTER_BIND, help="ROUTER address (default %(default)s)")
        parser.add_argument("--events", default=settings.MASTER_EVENTS, help="PULL address for wake-up hints")
        parser.add_argument("--master-cert", help="the master's secret key file (CURVE); required unless --plaintext")
        parser.add_argument("--plaintext", action="store_true", help="no encryption: only on a loopback address")
        parser.add_argument("--level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    def handle(self, bind: str, events: str, master_cert, plaintext: bool, level: str, **_) -> None:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if plaintext and not is_loopback(bind):
            raise CommandError(f"--plaintext: {bind} is not a loopback address; use CURVE keys (--master-cert)")
        if not plaintext and not master_cert:
            raise CommandError("give --master-cert SECRET_KEY_FILE (make one with 'manage lava-keys'), or --plaintext")
        context = zmq.Context.instance()
        keys = WorkerKeys()
        keys.refresh()
        authenticator = None if plaintext else start_authenticator(context, keys)
        master = Master(MasterConfig(bind=bind, events=events, secret_key_file=master_cert), worker_keys=keys)
        try:
            master.setup(context)
        except zmq.ZMQError as exc:
            raise CommandError(f"cannot bind {bind} / {events}: {exc}") from None
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
        logging.getLogger("lava-master").info("listening on %s (%s)", bind, "plain text" if plaintext else "CURVE")
        try:
            master.run(should_stop=lambda: bool(stopping))
        finally:
            master.close()
            if authenticator is not None:
                authenticator.stop()
