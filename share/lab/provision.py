#!/usr/bin/env python3
"""Create (once) or refresh everything the trial lab keeps in its database and configuration.

Run by ``run.py`` in one process, so that a restart costs one Django start-up,
not one per step. Prints a JSON summary on its last line. Idempotent: a second
run only rewrites what changed (ports, image folder) and never resubmits jobs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SHIPPED_HEALTH_CHECKS = REPO / "share" / "health-checks"
SAMPLE_JOBS = HERE / "jobs"
# the image folder the shipped health checks and sample jobs name; replaced by the lab's own
SHIPPED_IMAGES = "/srv/lava/test-images"
WORKER = "lab-worker"
PDU = "lab-pdu"


def qemu_dictionary(arch_note: str) -> str:
    return (
        "{% extends 'qemu.jinja2' %}\n"
        f"{{# {arch_note}: the job's context.arch picks the architecture; the tag tells jobs apart #}}\n"
        "{% set memory = 256 %}\n"
    )


def uboot_dictionary(telnet_port: int, pdu_daemon: str, outlet: int) -> str:
    pdu = f"pduclient --daemon {pdu_daemon} --hostname {PDU} --port {outlet} --command"
    return (
        "{% extends 'qemu-uboot-arm64.jinja2' %}\n"
        f"{{% set connection_command = 'telnet localhost {telnet_port}' %}}\n"
        # a virtual board needs no time for its capacitors to drain: reboot without pdudaemon's 5 s
        f"{{% set hard_reset_command = '{pdu} reboot --delay 0' %}}\n"
        f"{{% set power_off_command = '{pdu} off' %}}\n"
        f"{{% set power_on_command = '{pdu} on' %}}\n"
        "{# QEMU's user network: its own TFTP server (rooted at the worker's tftp_root) is 10.0.2.2 #}\n"
        "{% set uboot_tftp_server_ip = '10.0.2.2' %}\n"
    )


def devices(args) -> list[tuple[str, str, list[str], str]]:
    """(hostname, device type, tags, dictionary) of the lab's three boards."""
    return [
        ("qemu-x86-64-01", "qemu", ["x86_64"], qemu_dictionary("meant for x86_64 jobs")),
        ("qemu-arm64-01", "qemu", ["arm64"], qemu_dictionary("meant for arm64 jobs")),
        ("uboot-arm64-01", "qemu-uboot-arm64", [],
         uboot_dictionary(args.telnet_port, f"127.0.0.1:{args.pdu_port}", 1)),
    ]


def with_images(text: str, images: Path) -> str:
    return text.replace(SHIPPED_IMAGES, str(images))


def quiet(*args: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, required=True, help="folder built by share/test-images/build.sh")
    parser.add_argument("--telnet-port", type=int, required=True)
    parser.add_argument("--pdu-port", type=int, required=True)
    parser.add_argument("--samples", action="store_true", help="submit the sample jobs if never done")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import transaction

    from lava_common import keys
    from lava_scheduler.jobs.submission import submit_job
    from lava_scheduler.lab import files
    from lava_scheduler.lab.models import Device, DeviceType, Tag, Worker
    from lava_scheduler.lab.states import DeviceHealth

    state = Path(settings.STATE_DIR)
    summary: dict = {"new_devices": [], "jobs": []}
    quiet("migrate", "--no-input", "-v0")
    summary["admin"] = json.loads(quiet("ensure-admin"))
    quiet("device-types", "add", "*")
    # gunicorn's front (lava_server.wsgi_lab) serves this folder as apache does for the packaged lab
    quiet("collectstatic", "--no-input", "-v0")

    key_dir = state / "keys"
    for name in ("master", WORKER):
        if not (key_dir / f"{name}.key_secret").exists():
            keys.create_key_pair(str(key_dir), name)
    public_key = keys.read_public_key(str(key_dir / f"{WORKER}.key"))
    worker, _ = Worker.objects.get_or_create(hostname=WORKER, defaults={"description": "the trial lab's worker"})
    if worker.public_key != public_key:
        worker.public_key = public_key
        worker.save()

    worker_dir = state / "worker"
    dispatcher_yaml = (
        f"dispatcher_download_dir: {worker_dir / 'tmp'}\n"
        # the U-Boot board's QEMU serves this folder over TFTP (share/virtual-lab: tftp_root)
        f"tftp_root: {worker_dir / 'tftp'}\n"
        # MultiNode: the lab's lava-coordinator (share/lab/run.py writes this file and starts it)
        f"coordinator_config: {state / 'lava-coordinator.conf'}\n"
    )
    target = Path(settings.DISPATCHER_D) / WORKER / "dispatcher.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text() != dispatcher_yaml:
        target.write_text(dispatcher_yaml)

    health_dir = Path(settings.HEALTH_CHECKS_PATH)
    health_dir.mkdir(parents=True, exist_ok=True)
    for source in SHIPPED_HEALTH_CHECKS.glob("*.yaml"):
        if not (health_dir / source.name).exists():  # an admin's edits win over ours
            (health_dir / source.name).write_text(with_images(source.read_text(), args.images))

    for hostname, device_type, tags, dictionary in devices(args):
        with transaction.atomic():
            device = Device.objects.filter(hostname=hostname).first()
            if device is None:
                device = Device.objects.create(hostname=hostname, device_type=DeviceType.objects.get(name=device_type),
                                               worker_host=worker, description="trial lab board")
                device.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
                # Unknown: the scheduler runs its health check before anything else
                device.go_health(DeviceHealth.UNKNOWN, "added by the trial lab", manual=True)
                device.save()
                summary["new_devices"].append(hostname)
        if not files.dictionary_path(hostname).exists() or files.read_dictionary(hostname) != dictionary:
            files.write_dictionary(hostname, dictionary)
        files.render_device(hostname)  # refuse to start with a board the dispatcher could not use
    summary["devices"] = [d[0] for d in devices(args)]

    marker = state / "lab-samples-submitted"
    if args.samples and not marker.exists():
        admin = User.objects.get(username=summary["admin"]["username"])
        for source in sorted(SAMPLE_JOBS.glob("*.yaml")):
            (job,) = submit_job(with_images(source.read_text(), args.images), admin)
            summary["jobs"].append({"id": job.pk, "file": source.name})
        marker.write_text(json.dumps(summary["jobs"]) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
