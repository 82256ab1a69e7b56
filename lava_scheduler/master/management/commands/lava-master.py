"""``lava-server manage lava-master``: the endpoint lava-worker processes connect to."""

import logging
import signal

import zmq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lava_scheduler.master.auth import WorkerKeys, start_authenticator
from lava_scheduler.master.plaintext import (
    PlaintextRefused,
    check_plaintext_bind,
    ipc_path,
    open_socket_to_directory_members,
)
from lava_scheduler.master.server import Master, MasterConfig


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # see lava_scheduler.commandline
    help = "Run the master: hands jobs to workers over ZeroMQ, stores their logs and results"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", default=settings.MASTER_BIND, help="ROUTER address (default %(default)s)")
        parser.add_argument("--events", default=settings.MASTER_EVENTS, help="PULL address for wake-up hints")
        parser.add_argument("--master-cert", help="the master's secret key file (CURVE); required unless --plaintext")
        parser.add_argument("--plaintext", action="store_true",
                            help="no encryption and no keys: only on an ipc:// socket in a directory closed to "
                                 "others (whoever may enter it may speak for every worker)")
        parser.add_argument("--allow-plaintext-tcp", action="store_true",
                            help="with --plaintext, also allow a tcp:// loopback address, which every local "
                                 "process and QEMU guest with user networking reaches (tests only)")
        parser.add_argument("--level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    def handle(self, bind: str, events: str, master_cert, plaintext: bool, allow_plaintext_tcp: bool, level: str,
               **_) -> None:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if plaintext and master_cert:
            raise CommandError("--plaintext and --master-cert exclude each other")
        if not plaintext and not master_cert:
            raise CommandError("give --master-cert SECRET_KEY_FILE (make one with 'manage lava-keys'), or --plaintext")
        if plaintext:
            try:
                check_plaintext_bind(bind, allow_tcp=allow_plaintext_tcp)
            except PlaintextRefused as exc:
                raise CommandError(f"--plaintext: {exc}") from None
        context = zmq.Context.instance()
        keys = None
        authenticator = None
        if not plaintext:
            keys = WorkerKeys()
            keys.refresh()
            authenticator = start_authenticator(context, keys)
        master = Master(MasterConfig(bind=bind, events=events, secret_key_file=master_cert), worker_keys=keys)
        try:
            master.setup(context)
        except zmq.ZMQError as exc:
            raise CommandError(f"cannot bind {bind} / {events}: {exc}") from None
        socket_file = ipc_path(bind)
        if plaintext and socket_file is not None:
            open_socket_to_directory_members(socket_file)
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
