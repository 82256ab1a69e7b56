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

import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import catalog  # noqa: E402

SHIPPED_HEALTH_CHECKS = REPO / "share" / "health-checks"
SAMPLE_JOBS = HERE / "jobs"
# the image folder the shipped health checks and sample jobs name; replaced by the lab's own
SHIPPED_IMAGES = "/srv/lava/test-images"
WORKER = "lab-worker"


def with_images(text: str, images: Path) -> str:
    return text.replace(SHIPPED_IMAGES, str(images))


def write_sample_jobs(folder: Path, images: Path, boards: list[catalog.LabBoard]) -> list[Path]:
    """The sample jobs these boards can run, with this lab's images, ready for ``lavacli jobs submit``.

    Written at each start: a job whose boards are no longer chosen is removed (it would wait forever).
    """
    folder.mkdir(exist_ok=True)
    ready = []
    for source in sorted(SAMPLE_JOBS.glob("*.yaml")):
        target = folder / source.name
        text = with_images(source.read_text(), images)
        if runnable(yaml.safe_load(text), boards):
            target.write_text(text)
            ready.append(target)
        else:
            target.unlink(missing_ok=True)
    return ready


def runnable(sample: dict, boards: list[catalog.LabBoard]) -> bool:
    """Whether the chosen boards can run the sample job: one board per device (tags included: a job
    asking for nfs-root waits for a board that has it), a board of its own for each member of a
    MultiNode group."""
    roles = (sample.get("protocols") or {}).get("lava-multinode", {}).get("roles")
    members = [role for role in roles.values() for _ in range(role.get("count", 1))] if roles else [sample]
    wanted = [(member.get("device_type"), set(member.get("tags") or ())) for member in members]
    free = list(boards)
    # the most demanding members first, so that a member asking for nothing special takes what is left
    for device_type, tags in sorted(wanted, key=lambda want: -len(want[1])):
        board = next((b for b in free if b.device_type == device_type and tags <= set(b.tags)), None)
        if board is None:
            return False
        free.remove(board)
    return True


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
    parser.add_argument("--boards", default="default", help="the boards to set up (share/lab/catalog.py)")
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
        # docker devices and docker test shells: the lab's private dockerd (share/lab/run.py starts it)
        f"docker_host: unix://{state / catalog.DOCKERD_STATE / 'docker.sock'}\n"
    )
    chosen = catalog.choose(args.boards)
    if catalog.needs_nfs_server(chosen):
        nfs_port = args.telnet_port - catalog.NFS_PORT_BELOW_TELNET
        dispatcher_yaml += (
            # the virtual lab's nfs-ganesha exports this folder; each job extracts its root filesystem below it
            f"nfs_root: {worker_dir / 'nfs'}\n"
            # the boards are QEMU machines on user networking: the host is 10.0.2.2 to them
            "dispatcher_nfs_ip: 10.0.2.2\n"
            f"nfs_server_check: 127.0.0.1:{nfs_port}\n"
        )
    if catalog.needs_media_images(chosen):
        # the board's master OS fetches the image lava-run serves; on QEMU's user network the host is 10.0.2.2
        dispatcher_yaml += "dispatcher_ip: 10.0.2.2\n"
    target = Path(settings.DISPATCHER_D) / WORKER / "dispatcher.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text() != dispatcher_yaml:
        target.write_text(dispatcher_yaml)

    health_dir = Path(settings.HEALTH_CHECKS_PATH)
    health_dir.mkdir(parents=True, exist_ok=True)
    for source in SHIPPED_HEALTH_CHECKS.glob("*.yaml"):
        if not (health_dir / source.name).exists():  # an admin's edits win over ours
            (health_dir / source.name).write_text(with_images(source.read_text(), args.images))

    wirings = catalog.wirings(chosen, args.telnet_port, f"127.0.0.1:{args.pdu_port}")
    for board in chosen:
        dictionary = board.dictionary(wirings.get(board.hostname))
        with transaction.atomic():
            device = Device.objects.select_for_update().filter(hostname=board.hostname).first()
            if device is None:
                device = Device.objects.create(hostname=board.hostname,
                                               device_type=DeviceType.objects.get(name=board.device_type),
                                               worker_host=worker, description=board.summary)
                device.tags.set([Tag.objects.get_or_create(name=t)[0] for t in board.tags])
                summary["new_devices"].append(board.hostname)
            if device.health in (DeviceHealth.RETIRED,) or board.hostname in summary["new_devices"]:
                # Unknown: the scheduler runs its health check before anything else
                device.go_health(DeviceHealth.UNKNOWN, "chosen by ./lab.sh --boards", manual=True)
                device.save()
        if not files.dictionary_path(board.hostname).exists() or files.read_dictionary(board.hostname) != dictionary:
            files.write_dictionary(board.hostname, dictionary)
        files.render_device(board.hostname)  # refuse to start with a board the dispatcher could not use
    # a board of an earlier start that is not chosen now has no QEMU behind it: keep it out of scheduling
    left_out = {b.hostname for b in catalog.BOARDS} - {b.hostname for b in chosen}
    for device in Device.objects.filter(hostname__in=left_out).exclude(health=DeviceHealth.RETIRED):
        with transaction.atomic():
            device.go_health(DeviceHealth.RETIRED, "not chosen by ./lab.sh --boards", manual=True)
            device.save()
    summary["devices"] = [b.hostname for b in chosen]
    summary["wiring"] = {name: {"telnet_port": w.telnet_port, "outlet": w.outlet} for name, w in wirings.items()}

    ready = write_sample_jobs(state / "sample-jobs", args.images, chosen)
    summary["sample_jobs"] = [str(path) for path in ready]
    # each sample job once, when a board of its type is first chosen
    marker = state / "lab-samples-submitted"
    submitted = json.loads(marker.read_text()) if marker.exists() else []
    if args.samples:
        admin = User.objects.get(username=summary["admin"]["username"])
        done = {entry["file"] for entry in submitted}
        for path in ready:
            if path.name in done:
                continue
            jobs = submit_job(path.read_text(), admin)
            # a MultiNode sample is one job per role's board: "12.0, 12.1"
            summary["jobs"].append({"id": ", ".join(job.display_id for job in jobs), "file": path.name})
        marker.write_text(json.dumps(submitted + summary["jobs"]) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
