"""``lava-server manage groups add|list|rm|members|perms``: groups and their permissions on the lab."""

from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError

from lava_scheduler.commandline import SubcommandCommand, add_format_options, get_or_fail, print_rows
from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.permission_names import (
    DEVICE_PERMISSIONS,
    DEVICE_TYPE_PERMISSIONS,
    WORKER_PERMISSIONS,
)
from lava_scheduler.permissions.models import (
    GroupDevicePermission,
    GroupDeviceTypePermission,
    GroupWorkerPermission,
)


class Command(SubcommandCommand):
    help = "Manage groups, their members and their permissions on device types and devices"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser("add", help="add a group")
        add.add_argument("name")
        add.add_argument("--users", nargs="*", default=[], metavar="USER", help="its first members")
        listing = subparsers.add_parser("list", help="list groups with their members")
        add_format_options(listing)
        remove = subparsers.add_parser("rm", help="remove a group (its permission rows go with it)")
        remove.add_argument("name")
        members = subparsers.add_parser("members", help="add or remove members")
        members.add_argument("name")
        members.add_argument("--add", nargs="*", default=[], metavar="USER")
        members.add_argument("--remove", nargs="*", default=[], metavar="USER")
        perms = subparsers.add_parser(
            "perms", help="list, add or remove the group's permissions (an object without rows is open to all)"
        )
        perms.add_argument("action", choices=["list", "add", "rm"])
        perms.add_argument("name", nargs="?", help="the group (list: all groups when omitted)")
        perms.add_argument(
            "permission", nargs="?",
            help=f"one of {', '.join(DEVICE_TYPE_PERMISSIONS + DEVICE_PERMISSIONS + WORKER_PERMISSIONS)}",
        )
        target = perms.add_mutually_exclusive_group()
        target.add_argument("--device-type")
        target.add_argument("--device")
        target.add_argument("--worker")
        add_format_options(perms)

    def handle_add(self, name: str, users: list[str], **_) -> None:
        if Group.objects.filter(name=name).exists():
            raise CommandError(f"group '{name}' already exists")
        group = Group.objects.create(name=name)
        group.user_set.add(*[get_or_fail(User, "user", username=u) for u in users])
        self.stdout.write(f"group '{name}' added")

    def handle_list(self, **options) -> None:
        rows = [(g.name, " ".join(sorted(u.username for u in g.user_set.all())))
                for g in Group.objects.prefetch_related("user_set").order_by("name")]
        print_rows(options, ["name", "users"], rows)

    def handle_rm(self, name: str, **_) -> None:
        get_or_fail(Group, "group", name=name).delete()
        self.stdout.write(f"group '{name}' removed")

    def handle_members(self, name: str, add: list[str], remove: list[str], **_) -> None:
        group = get_or_fail(Group, "group", name=name)
        group.user_set.add(*[get_or_fail(User, "user", username=u) for u in add])
        group.user_set.remove(*[get_or_fail(User, "user", username=u) for u in remove])
        self.stdout.write(f"group '{name}': {' '.join(sorted(group.user_set.values_list('username', flat=True)))}")

    def handle_perms(self, action: str, name, permission, device_type, device, worker, **options) -> None:
        if action == "list":
            rows = [(r.group.name, r.permission, "device-type", r.device_type_id)
                    for r in GroupDeviceTypePermission.objects.select_related("group")]
            rows += [(r.group.name, r.permission, "device", r.device_id)
                     for r in GroupDevicePermission.objects.select_related("group")]
            rows += [(r.group.name, r.permission, "worker", r.worker_id)
                     for r in GroupWorkerPermission.objects.select_related("group")]
            print_rows(options, ["group", "permission", "on", "name"],
                       sorted(r for r in rows if name is None or r[0] == name))
            return
        if not name or not permission or not (device_type or device or worker):
            raise CommandError(f"perms {action}: give GROUP PERMISSION and --device-type, --device or --worker")
        group = get_or_fail(Group, "group", name=name)
        if device_type:
            allowed, model = DEVICE_TYPE_PERMISSIONS, GroupDeviceTypePermission
            row = {"device_type": get_or_fail(DeviceType, "device type", name=device_type)}
        elif device:
            allowed, model = DEVICE_PERMISSIONS, GroupDevicePermission
            row = {"device": get_or_fail(Device, "device", hostname=device)}
        else:
            allowed, model = WORKER_PERMISSIONS, GroupWorkerPermission
            row = {"worker": get_or_fail(Worker, "worker", hostname=worker)}
        if permission not in allowed:
            raise CommandError(f"permission '{permission}': expected one of {', '.join(allowed)}")
        target = device_type or device or worker
        if action == "add":
            model.objects.get_or_create(group=group, permission=permission, **row)
            self.stdout.write(f"group '{name}' has {permission} on {target}")
        else:
            deleted, _ = model.objects.filter(group=group, permission=permission, **row).delete()
            if not deleted:
                raise CommandError(f"group '{name}' has no {permission} on {target}")
            self.stdout.write(f"group '{name}' no longer has {permission} on {target}")
