"""``lava-server manage device-types add|list|details|update``"""

from django.conf import settings
from django.core.management.base import CommandError

from lava_scheduler.commandline import (
    SubcommandCommand,
    add_format_options,
    get_or_fail,
    print_details,
    print_rows,
)
from lava_scheduler.device_config import list_device_types, template_exists
from lava_scheduler.lab.models import Alias, DeviceType
from lava_scheduler.lab.states import HealthDenominator, parse_choice


def _health_options(parser) -> None:
    parser.add_argument("--health-frequency", type=int, help="how often a health check is due")
    parser.add_argument("--health-denominator", choices=["hours", "jobs"], help="unit of --health-frequency")
    parser.add_argument("--description")


class Command(SubcommandCommand):
    help = "Manage device types"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser("add", help="add a device type (its template must exist), or '*' for all")
        add.add_argument("name")
        add.add_argument("--alias", action="append", default=[], help="an alias for this type (repeatable)")
        add.add_argument("--hide", action="store_true", help="hidden types are skipped by the scheduler")
        _health_options(add)
        listing = subparsers.add_parser("list", help="list device types")
        listing.add_argument("--all", "-a", action="store_true", help="include hidden types")
        add_format_options(listing)
        details = subparsers.add_parser("details", help="show one device type")
        details.add_argument("name")
        details.add_argument("--devices", action="store_true", help="list its devices")
        add_format_options(details)
        update = subparsers.add_parser("update", help="change a device type")
        update.add_argument("name")
        visible = update.add_mutually_exclusive_group()
        visible.add_argument("--hide", action="store_true")
        visible.add_argument("--show", action="store_true")
        health = update.add_mutually_exclusive_group()
        health.add_argument("--disable-health-check", action="store_true")
        health.add_argument("--enable-health-check", action="store_true")
        _health_options(update)

    def handle_add(self, name: str, alias: list[str], hide: bool, **options) -> None:
        paths = settings.DEVICE_TYPES_PATHS
        if name == "*":
            names = [n for n in list_device_types(paths) if not n.startswith("base")]
        elif not template_exists(name, paths):
            raise CommandError(f"device type '{name}': no template {name}.jinja2 in {', '.join(map(str, paths))}")
        else:
            names = [name]
        for type_name in names:
            if DeviceType.objects.filter(name=type_name).exists():
                if name == "*":
                    continue
                raise CommandError(f"device type '{type_name}' already exists")
            if Alias.objects.filter(name=type_name).exists():
                raise CommandError(f"'{type_name}' is already an alias")
            device_type = DeviceType(name=type_name, display=not hide)
            self._apply(device_type, options)
            device_type.save()
            for alias_name in alias:
                if DeviceType.objects.filter(name=alias_name).exists():
                    raise CommandError(f"alias '{alias_name}' is already a device type")
                Alias.objects.create(name=alias_name, device_type=device_type)
            self.stdout.write(f"device type '{type_name}' added")

    def _apply(self, device_type: DeviceType, options: dict) -> None:
        if options.get("health_frequency") is not None:
            device_type.health_frequency = options["health_frequency"]
        if options.get("health_denominator"):
            device_type.health_denominator = parse_choice(HealthDenominator, options["health_denominator"])
        if options.get("description") is not None:
            device_type.description = options["description"]

    def handle_list(self, all: bool, **options) -> None:
        types = DeviceType.objects.all() if all else DeviceType.objects.filter(display=True)
        rows = [
            (t.name, t.devices.count(), f"{t.health_frequency} {t.get_health_denominator_display()}",
             "disabled" if t.disable_health_check else "enabled", "yes" if t.display else "no")
            for t in types
        ]
        print_rows(options, ["name", "devices", "health_frequency", "health_check", "visible"], rows)

    def handle_details(self, name: str, devices: bool, **options) -> None:
        device_type = get_or_fail(DeviceType, "device type", name=name)
        fields = {
            "name": device_type.name,
            "description": device_type.description,
            "visible": device_type.display,
            "health_frequency": device_type.health_frequency,
            "health_denominator": device_type.get_health_denominator_display(),
            "health_check": not device_type.disable_health_check,
            "aliases": [a.name for a in device_type.aliases.all()],
            "template": template_exists(name, settings.DEVICE_TYPES_PATHS),
        }
        if devices:
            fields["devices"] = [d.hostname for d in device_type.devices.all()]
        print_details(options, fields)

    def handle_update(self, name: str, hide: bool, show: bool, **options) -> None:
        device_type = get_or_fail(DeviceType, "device type", name=name)
        if hide or show:
            device_type.display = show
        if options["disable_health_check"] or options["enable_health_check"]:
            device_type.disable_health_check = options["disable_health_check"]
        self._apply(device_type, options)
        device_type.save()
        self.stdout.write(f"device type '{name}' updated")
