"""``lava-server manage aliases add|list|rm``"""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from lava_scheduler.commandline import SubcommandCommand, add_format_options, get_or_fail, print_rows
from lava_scheduler.lab.models import Alias, DeviceType


class Command(SubcommandCommand):
    help = "Manage device-type aliases (other names usable as device_type: in jobs)"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser("add", help="add an alias")
        add.add_argument("name")
        add.add_argument("device_type")
        listing = subparsers.add_parser("list", help="list aliases")
        add_format_options(listing)
        rm = subparsers.add_parser("rm", help="delete an alias")
        rm.add_argument("name")

    def handle_add(self, name: str, device_type: str, **_) -> None:
        target = get_or_fail(DeviceType, "device type", name=device_type)
        if Alias.objects.filter(name=name).exists():
            raise CommandError(f"alias '{name}' already exists")
        alias = Alias(name=name, device_type=target)
        try:
            alias.full_clean()
        except ValidationError as exc:
            raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from None
        alias.save()
        self.stdout.write(f"alias '{name}' -> '{device_type}' added")

    def handle_list(self, **options) -> None:
        print_rows(options, ["name", "device_type"], [(a.name, a.device_type_id) for a in Alias.objects.all()])

    def handle_rm(self, name: str, **_) -> None:
        get_or_fail(Alias, "alias", name=name).delete()
        self.stdout.write(f"alias '{name}' deleted")
