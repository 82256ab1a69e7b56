#!/usr/bin/env python3
"""Add a device to this lab: its database row and its device dictionary.

    add_device.py TYPE NAME [-t TELNET_PORT] [-p PDU_PORT] [-b] [-w WORKER] [-g GROUP ...]

-t PORT   the board's serial console is served by ser2net on localhost:PORT
-p PORT   the board's power is outlet PORT of the PDU daemon (pduclient)
-b        install the shipped health-check job for TYPE if the lab has none yet
-g GROUP  the device belongs to GROUP: only its members may see it, submit to it and change it
"""

import argparse
import os
import shutil
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED_HEALTH_CHECKS = [REPO / "share" / "health-checks", Path("/usr/share/lava-server/health-checks")]


def dictionary_text(device_type: str, telnet_port: int | None, pdu_port: int | None, pdu: str, pdu_host: str) -> str:
    lines = [f"{{% extends '{device_type}.jinja2' %}}"]
    if telnet_port is not None:
        lines.append(f"{{% set connection_command = 'telnet localhost {telnet_port}' %}}")
    if pdu_port is not None:
        base = f"pduclient --daemon {pdu} --hostname {pdu_host} --port {pdu_port} --command"
        lines.append(f"{{% set hard_reset_command = '{base} reboot' %}}")
        lines.append(f"{{% set power_off_command = '{base} off' %}}")
        lines.append(f"{{% set power_on_command = '{base} on' %}}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("device_type", metavar="TYPE")
    parser.add_argument("hostname", metavar="NAME")
    parser.add_argument("-t", "--telnet-port", type=int, help="ser2net telnet port on localhost")
    parser.add_argument("-p", "--pdu-port", type=int, help="PDU outlet of the board")
    parser.add_argument("-b", "--health-check", action="store_true", help="install the default health check")
    parser.add_argument("-w", "--worker", default=socket.gethostname(), help="worker the board is attached to")
    parser.add_argument("--pdu-daemon", default="localhost", help="host of the PDU daemon")
    parser.add_argument("--pdu-hostname", default="pdu", help="name of the PDU in the PDU daemon")
    parser.add_argument("-g", "--group", action="append", default=[], dest="groups",
                        help="owning group (repeatable): view, submit and change on the device for it only")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import transaction

    from lava_scheduler.device_config import template_exists
    from lava_scheduler.lab import files
    from lava_scheduler.lab.models import Device, DeviceType, Worker
    from lava_scheduler.permissions.grants import give_device_to_groups

    def fail(message: str) -> int:
        print(f"add_device.py: {message}", file=sys.stderr)
        return 1

    if not template_exists(args.device_type, settings.DEVICE_TYPES_PATHS):
        return fail(f"device type '{args.device_type}' is not supported here (no {args.device_type}.jinja2)")
    from django.db.utils import DatabaseError

    try:
        exists = Device.objects.filter(hostname=args.hostname).exists()
    except DatabaseError as exc:
        return fail(f"the lab database is not usable ({exc}); set it up with 'lava-server manage migrate'")
    if exists:
        return fail(f"device '{args.hostname}' already exists")
    groups = list(Group.objects.filter(name__in=args.groups))
    missing = sorted(set(args.groups) - {g.name for g in groups})
    if missing:
        return fail(f"no group(s) {', '.join(missing)} (add them with 'lava-server manage groups add')")
    if files.dictionary_path(args.hostname).exists():
        return fail(f"a dictionary for '{args.hostname}' already exists: {files.dictionary_path(args.hostname)}")
    text = dictionary_text(args.device_type, args.telnet_port, args.pdu_port, args.pdu_daemon, args.pdu_hostname)
    files.render_device(args.hostname, text=text)  # refuse before writing anything
    with transaction.atomic():
        device_type, _ = DeviceType.objects.get_or_create(name=args.device_type)
        worker, _ = Worker.objects.get_or_create(hostname=args.worker)
        device = Device.objects.create(hostname=args.hostname, device_type=device_type, worker_host=worker)
        give_device_to_groups(device, groups)
        files.write_dictionary(args.hostname, text)
    print(f"device '{args.hostname}' ({args.device_type}) added on worker '{args.worker}', in Maintenance")
    print(f"dictionary: {files.dictionary_path(args.hostname)}")
    if groups:
        print(f"owned by group(s) {', '.join(g.name for g in groups)}: only their members see it and submit to it")
    if args.health_check:
        target = Path(settings.HEALTH_CHECKS_PATH) / f"{args.device_type}.yaml"
        if target.exists():
            print(f"health check: {target} already present, kept")
        else:
            source = next((d / target.name for d in SHIPPED_HEALTH_CHECKS if (d / target.name).exists()), None)
            if source is None:
                return fail(f"no shipped health check for '{args.device_type}'; write {target} yourself")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            print(f"health check: {target}")
    print(f"when it is ready: lava-server manage devices update {args.hostname} --health unknown")
    return 0


if __name__ == "__main__":
    sys.exit(main())
