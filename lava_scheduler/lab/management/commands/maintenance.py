"""``lava-server manage maintenance on|off``: the whole lab, a worker or a device type."""

from django.core.management.base import BaseCommand, CommandError

from lava_scheduler.lab.maintenance import set_maintenance
from lava_scheduler.lab.models import DeviceType, Worker


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # see lava_scheduler.commandline
    help = "Put devices into maintenance (running jobs finish unless --cancel-running) or take them out"

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["on", "off"], help="on: into maintenance; off: back (a health check first)")
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--worker", help="only this worker's devices (and the worker itself)")
        scope.add_argument("--device-type", help="only devices of this type")
        parser.add_argument("--reason", default="", help="recorded in each device's history")
        parser.add_argument("--cancel-running", action="store_true", help="cancel the jobs running on them")
        parser.add_argument("--dry-run", action="store_true", help="only list what would change")

    def handle(self, action: str, worker, device_type, reason: str, cancel_running: bool, dry_run: bool, **_):
        if worker and not Worker.objects.filter(pk=worker).exists():
            raise CommandError(f"no worker '{worker}'")
        if device_type and not DeviceType.objects.filter(pk=device_type).exists():
            raise CommandError(f"no device type '{device_type}'")
        if cancel_running and action == "off":
            raise CommandError("--cancel-running goes with 'on'")
        scope = f"worker {worker}" if worker else f"device type {device_type}" if device_type else "the lab"
        reason = reason or f"maintenance of {scope} (manage maintenance {action})"
        outcome = set_maintenance(action == "on", reason, worker=worker, device_type=device_type,
                                  cancel_running=cancel_running, dry_run=dry_run)
        verb = "would put" if dry_run else "put"
        where = "into maintenance" if action == "on" else "back in service (health check first)"
        self.stdout.write(f"{verb} {len(outcome.devices)} device(s) of {scope} {where}: {', '.join(outcome.devices) or '-'}")
        if outcome.canceled_jobs:
            self.stdout.write(f"{'would cancel' if dry_run else 'canceled'} job(s): "
                              f"{', '.join(str(j) for j in outcome.canceled_jobs)}")
