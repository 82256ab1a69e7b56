"""``lava-server manage workers add|list|details|update``"""

from django.core.management.base import CommandError
from django.db import transaction

from lava_common import keys
from lava_scheduler.commandline import (
    SubcommandCommand,
    add_format_options,
    get_or_fail,
    print_details,
    print_rows,
)
from lava_scheduler.events import wake_scheduler
from lava_scheduler.lab.models import Worker
from lava_scheduler.lab.states import WorkerHealth, parse_choice


def read_public_key(path: str, hostname: str) -> str:
    """The key in ``path``, refused when another worker has it already: a key opens one worker only."""
    try:
        key = keys.read_public_key(path)
    except keys.KeyFileError as exc:
        raise CommandError(f"--public-key: {exc}") from None
    holder = Worker.objects.filter(public_key=key).exclude(hostname=hostname).values_list("hostname", flat=True)
    if holder:
        raise CommandError(f"--public-key {path}: worker '{holder[0]}' has this key already; each worker needs "
                           "its own key pair ('manage lava-keys NAME DIR')")
    return key


class Command(SubcommandCommand):
    help = "Manage workers"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser("add", help="add a worker")
        add.add_argument("hostname")
        add.add_argument("--description", default="")
        add.add_argument("--health", choices=["active", "maintenance", "retired"], default="active")
        add.add_argument("--job-limit", type=int, default=0, help="concurrent jobs at most (0: no limit)")
        add.add_argument("--public-key", help="file holding the worker's CURVE public key")
        listing = subparsers.add_parser("list", help="list workers")
        listing.add_argument("--all", "-a", action="store_true", help="include retired workers")
        add_format_options(listing)
        details = subparsers.add_parser("details", help="show one worker")
        details.add_argument("hostname")
        details.add_argument("--devices", action="store_true")
        add_format_options(details)
        update = subparsers.add_parser("update", help="change a worker")
        update.add_argument("hostname")
        update.add_argument("--description")
        update.add_argument("--health", choices=["active", "maintenance", "retired"])
        update.add_argument("--job-limit", type=int)
        update.add_argument("--public-key", help="file holding the worker's CURVE public key")

    def handle_add(self, hostname: str, description: str, health: str, job_limit: int, public_key, **_) -> None:
        if Worker.objects.filter(hostname=hostname).exists():
            raise CommandError(f"worker '{hostname}' already exists")
        worker = Worker(hostname=hostname, description=description, job_limit=job_limit)
        if public_key:
            worker.public_key = read_public_key(public_key, hostname)
        worker.full_clean()
        with transaction.atomic():
            worker.save()
            if health != "active":
                worker.go_health(parse_choice(WorkerHealth, health), reason="added")
                worker.save()
        self.stdout.write(f"worker '{hostname}' added")

    def handle_list(self, all: bool, **options) -> None:
        workers = Worker.objects.all()
        if not all:
            workers = workers.exclude(health=WorkerHealth.RETIRED)
        rows = [
            (w.hostname, w.get_state_display(), w.get_health_display(), w.last_ping, w.version, w.devices.count())
            for w in workers
        ]
        print_rows(options, ["hostname", "state", "health", "last_ping", "version", "devices"], rows)

    def handle_details(self, hostname: str, devices: bool, **options) -> None:
        worker = get_or_fail(Worker, "worker", hostname=hostname)
        fields = {
            "hostname": worker.hostname,
            "description": worker.description,
            "state": worker.get_state_display(),
            "health": worker.get_health_display(),
            "last_ping": worker.last_ping,
            "version": worker.version,
            "job_limit": worker.job_limit,
            "public_key": worker.public_key or "(none)",
        }
        if devices:
            fields["devices"] = [d.hostname for d in worker.devices.all()]
        print_details(options, fields)

    @transaction.atomic
    def handle_update(self, hostname: str, description, health, job_limit, public_key, **_) -> None:
        worker = Worker.objects.select_for_update().filter(hostname=hostname).first()
        if worker is None:
            raise CommandError(f"no worker '{hostname}'")
        if description is not None:
            worker.description = description
        if job_limit is not None:
            worker.job_limit = job_limit
        if public_key:
            worker.public_key = read_public_key(public_key, hostname)
        if health is not None:
            worker.go_health(parse_choice(WorkerHealth, health), reason="manage workers update")
            wake_scheduler("worker")
        worker.save()
        self.stdout.write(f"worker '{hostname}' updated")
