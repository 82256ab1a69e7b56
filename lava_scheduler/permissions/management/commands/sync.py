"""``lava-server manage sync [--dry-run]``: device rows and group permissions from ``sync_to_lava``."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lava_scheduler.permissions.sync import sync_devices


class Command(BaseCommand):
    help = "Create or update the devices whose dictionaries carry sync_to_lava; retire those that lost it"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        report = sync_devices(Path(settings.DEVICES_PATH), list(settings.DEVICE_TYPES_PATHS), dry_run=dry_run)
        prefix = "would be " if dry_run else ""
        for label, names in (("created", report.created), ("updated", report.updated), ("retired", report.retired)):
            for name in names:
                self.stdout.write(f"{name}: {prefix}{label}")
        self.stdout.write(f"{len(report.created)} {prefix}created, {len(report.updated)} {prefix}updated, "
                          f"{len(report.unchanged)} unchanged, {len(report.retired)} {prefix}retired")
        if report.errors:
            raise CommandError("\n".join(report.errors))
