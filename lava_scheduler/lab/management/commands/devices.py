"""``lava-server manage devices add|update|list|details|check|dict``"""

import sys

from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError
from django.db import transaction

from lava_scheduler.commandline import (
    SubcommandCommand,
    add_format_options,
    get_or_fail,
    print_details,
    print_rows,
)
from lava_scheduler.device_config import DeviceConfigError, device_type_of_dictionary
from lava_scheduler.events import wake_scheduler
from lava_scheduler.lab import files
from lava_scheduler.lab.models import Device, DeviceType, Tag, Worker
from lava_scheduler.lab.states import DeviceHealth, parse_choice

HEALTH_NAMES = [label.lower() for _, label in DeviceHealth.choices]


class Command(SubcommandCommand):
    help = "Manage devices and their dictionaries"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser("add", help="add a device")
        add.add_argument("hostname")
        add.add_argument("--device-type", required=True)
        add.add_argument("--worker", help="the worker the device is attached to")
        add.add_argument("--description", default="")
        add.add_argument("--tags", nargs="*", default=[], help="existing tag names")
        add.add_argument("--health", choices=HEALTH_NAMES, help="initial health (default: Maintenance)")
        add.add_argument("--offline", action="store_true", help="same as --health maintenance")
        add.add_argument("--physical-user")
        add.add_argument("--physical-group")
        update = subparsers.add_parser("update", help="change a device")
        update.add_argument("hostname")
        update.add_argument("--worker")
        update.add_argument("--description")
        update.add_argument("--health", choices=HEALTH_NAMES)
        update.add_argument("--reason", default="", help="why the health changes (kept in the history)")
        update.add_argument("--tags", nargs="*", help="replace the device's tags")
        listing = subparsers.add_parser("list", help="list devices")
        listing.add_argument("--all", "-a", action="store_true", help="include retired devices")
        listing.add_argument("--state", choices=["idle", "reserved", "running"])
        listing.add_argument("--health", choices=HEALTH_NAMES)
        add_format_options(listing)
        details = subparsers.add_parser("details", help="show one device")
        details.add_argument("hostname")
        details.add_argument("--history", action="store_true", help="its state and health changes")
        add_format_options(details)
        check = subparsers.add_parser("check", help="render and validate device dictionaries")
        check.add_argument("hostnames", nargs="*")
        check.add_argument("--all", action="store_true")
        dictionary = subparsers.add_parser("dict", help="get or set a device dictionary")
        actions = dictionary.add_subparsers(dest="dict_action", required=True, metavar="get|set")
        get = actions.add_parser("get", help="print the dictionary")
        get.add_argument("hostname")
        get.add_argument("--render", action="store_true", help="print the rendered configuration instead")
        put = actions.add_parser("set", help="replace the dictionary from a file ('-' for stdin)")
        put.add_argument("hostname")
        put.add_argument("file")

    @transaction.atomic
    def handle_add(self, hostname: str, device_type: str, worker, description, tags, health, offline, **opts) -> None:
        if Device.objects.filter(hostname=hostname).exists():
            raise CommandError(f"device '{hostname}' already exists")
        device = Device(
            hostname=hostname,
            device_type=get_or_fail(DeviceType, "device type", name=device_type),
            description=description,
            worker_host=get_or_fail(Worker, "worker", hostname=worker) if worker else None,
        )
        if opts.get("physical_user"):
            device.physical_owner = get_or_fail(User, "user", username=opts["physical_user"])
        if opts.get("physical_group"):
            device.physical_group = get_or_fail(Group, "group", name=opts["physical_group"])
        device.full_clean(exclude=["last_health_report_job"])
        device.save()
        device.tags.set(self._tags(tags))
        if health and not offline:
            device.go_health(parse_choice(DeviceHealth, health), "added", manual=True)
            device.save()
        self.stdout.write(f"device '{hostname}' added ({device.get_health_display()})")

    def _tags(self, names: list[str]) -> list[Tag]:
        tags = list(Tag.objects.filter(name__in=names))
        unknown = sorted(set(names) - {t.name for t in tags})
        if unknown:
            raise CommandError(f"unknown tag(s): {', '.join(unknown)} (create them with 'manage tags add')")
        return tags

    @transaction.atomic
    def handle_update(self, hostname: str, worker, description, health, reason, tags, **_) -> None:
        device = Device.objects.select_for_update().filter(hostname=hostname).first()
        if device is None:
            raise CommandError(f"no device '{hostname}'")
        if worker is not None:
            device.worker_host = get_or_fail(Worker, "worker", hostname=worker)
        if description is not None:
            device.description = description
        if health is not None:
            device.go_health(parse_choice(DeviceHealth, health), reason or "manage devices update", manual=True)
            wake_scheduler("device")
        device.save()
        if tags is not None:
            device.tags.set(self._tags(tags))
        self.stdout.write(f"device '{hostname}' updated")

    def handle_list(self, all: bool, state, health, **options) -> None:
        devices = Device.objects.select_related("worker_host")
        if not all:
            devices = devices.exclude(health=DeviceHealth.RETIRED)
        if state:
            devices = devices.filter(state=["idle", "reserved", "running"].index(state))
        if health:
            devices = devices.filter(health=parse_choice(DeviceHealth, health))
        rows = [
            (d.hostname, d.device_type_id, d.get_state_display(), d.get_health_display(), d.worker_host_id)
            for d in devices
        ]
        print_rows(options, ["hostname", "device_type", "state", "health", "worker"], rows)

    def handle_details(self, hostname: str, history: bool, **options) -> None:
        device = get_or_fail(Device, "device", hostname=hostname)
        current = device.jobs.exclude(state=5).first()
        fields = {
            "hostname": device.hostname,
            "device_type": device.device_type_id,
            "description": device.description,
            "state": device.get_state_display(),
            "health": device.get_health_display(),
            "worker": device.worker_host_id,
            "tags": [t.name for t in device.tags.all()],
            "current_job": current.pk if current else None,
            "dictionary": "present" if files.read_dictionary(hostname) is not None else "missing",
        }
        if history:
            fields["history"] = [f"{t.created:%Y-%m-%d %H:%M:%S} {t}" for t in device.transitions.all()[:50]]
            if not options.get("json"):
                print_details(options, {k: v for k, v in fields.items() if k != "history"})
                for line in fields["history"]:
                    self.stdout.write(f"  {line}")
                return
        print_details(options, fields)

    def handle_check(self, hostnames: list[str], all: bool, **_) -> None:
        if all:
            hostnames = list(Device.objects.values_list("hostname", flat=True))
        if not hostnames:
            raise CommandError("name devices to check, or use --all")
        failed = 0
        for hostname in hostnames:
            device = Device.objects.filter(hostname=hostname).first()
            try:
                text = files.read_dictionary(hostname)
                if text is None:
                    raise DeviceConfigError(f"device '{hostname}': no dictionary at {files.dictionary_path(hostname)}")
                extends = device_type_of_dictionary(text, source=hostname)
                if device is not None and extends != device.device_type_id:
                    raise DeviceConfigError(
                        f"device '{hostname}': dictionary extends '{extends}' but the device is a "
                        f"'{device.device_type_id}'"
                    )
                files.render_device(hostname, text=text)
            except DeviceConfigError as exc:
                failed += 1
                self.stderr.write(f"{hostname}: invalid: {exc}")
            else:
                self.stdout.write(f"{hostname}: valid")
        if failed:
            raise CommandError(f"{failed} of {len(hostnames)} device(s) invalid")

    def handle_dict(self, dict_action: str, hostname: str, **options) -> None:
        device = get_or_fail(Device, "device", hostname=hostname)
        if dict_action == "get":
            text = files.read_dictionary(hostname)
            if text is None:
                raise CommandError(f"device '{hostname}' has no dictionary ({files.dictionary_path(hostname)})")
            self.stdout.write(files.render_device_text(hostname, text=text) if options["render"] else text, ending="")
            return
        source = options["file"]
        try:
            text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
        except OSError as exc:
            raise CommandError(f"{source}: {exc.strerror}") from None
        extends = device_type_of_dictionary(text, source=source)
        if extends != device.device_type_id:
            raise CommandError(f"{source}: extends '{extends}' but '{hostname}' is a '{device.device_type_id}'")
        files.render_device(hostname, text=text)  # refuse a dictionary that does not render
        files.write_dictionary(hostname, text)
        self.stdout.write(f"dictionary of '{hostname}' written to {files.dictionary_path(hostname)}")
