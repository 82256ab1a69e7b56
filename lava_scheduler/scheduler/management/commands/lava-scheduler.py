"""``lava-server manage lava-scheduler``: assigns queued jobs to idle devices."""

import logging
import signal

import zmq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lava_scheduler.scheduler import daemon, side_tasks


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # see lava_scheduler.commandline
    help = "Run the scheduler: health checks, queued jobs to idle devices, queue timeouts, silent workers"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--events", default=settings.SCHEDULER_EVENTS,
            help="PULL address for wake-up hints (default %(default)s; '' for none)",
        )
        parser.add_argument("--interval", type=float, default=daemon.INTERVAL, help="seconds between passes at most")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--no-side-tasks", dest="run_side_tasks", action="store_false",
            help="do not send notifications nor run retention in this process",
        )
        parser.add_argument("--level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    def handle(self, events: str, interval: float, once: bool, level: str, run_side_tasks: bool, **_) -> None:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if once:
            from lava_scheduler.scheduler.core import schedule

            summary = schedule()
            self.stdout.write(f"scheduled {len(summary.scheduled)} job(s), {len(summary.health_checks)} health check(s)")
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
        if run_side_tasks:
            side_tasks.start(lambda: bool(stopping))
        try:
            daemon.run(events or None, should_stop=lambda: bool(stopping), interval=interval)
        except zmq.ZMQError as exc:
            raise CommandError(f"cannot bind {events}: {exc} (another scheduler? use --events '')") from None
