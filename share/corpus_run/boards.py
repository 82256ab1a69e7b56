"""The virtual board a job runs on: QEMU, the iPXE and GRUB PCs, the UEFI server, a tap network; what was
started for a job, stopped when it ends."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

# share/virtual-lab is not a package: its modules are on sys.path by corpus_run/__init__.py
import ipxe_board
import tap_network
import uefi_board
from nfs_server import GaneshaServer, NfsServerError
from uefi_server import UefiServer

from corpus_run import REPO
from corpus_run.images import ARCHES, build_images, images_dir, network_root
from corpus_run.left_out import LeftOut
from corpus_run.peers import DOCKERD, NFS, free_port
from lava_scheduler.device_config import render_device_config


def qemu_device(job: dict, folder: Path) -> dict:
    # the test overlay's disk is qemu.jinja2's (IDE on x86), as on the lab's boards: our boot disk drives it
    dictionary = ("{% extends 'qemu.jinja2' %}\n"
                  # the admin command kvm-command.yaml runs: a board of ours that has one by that name
                  "{% set user_commands = {'user_command_to_run': {'do': 'echo corpus-run user command',"
                  " 'undo': 'echo corpus-run user command undone'}} %}\n")
    tap = TapBoard(folder, nfs=network_root_job(job)) if wants_tap(job) else None
    if tap is not None:
        TAP_BOARDS[folder] = tap
        tap.start()
        dictionary += tap.dictionary()
    elif NFS.server is not None:  # our ganesha is not on the standard port
        dictionary += f"{{% set extra_nfsroot_args = 'port={NFS.server.port}' %}}\n"
    return render_device_config("qemu-01", dictionary, job.get("context"), device_types_paths=[REPO / "device-types"])


def ipxe_device(job: dict, folder: Path, bootfile: str = "", extra: str = "") -> dict:
    """The virtual iPXE board of tests/dispatcher/test_ipxe.py: SeaBIOS + iPXE ROM, TFTP from the dispatcher's root;
    with a ``bootfile``, the file DHCP names for the ROM to run."""
    if not ipxe_board.IPXE_ROM.exists():
        raise LeftOut("ipxe-qemu is not installed: no virtual iPXE board")
    dictionary = ipxe_board.dictionary(folder / "board", folder / "tftp", free_port(), bootfile=bootfile) + extra
    if NFS.server is not None:  # our ganesha is not on the standard port
        dictionary += f"{{% set extra_nfsroot_args = 'port={NFS.server.port}' %}}\n"
    return render_device_config("ipxe-x86-01", dictionary, job.get("context"), device_types_paths=[REPO / "device-types"])


def grub_pc_device(job: dict, folder: Path) -> dict:
    """The iPXE board whose ROM runs GRUB for BIOS from the TFTP root (share/test-images/build-grub-pxe.sh):
    GRUB waits at its menu on the serial line, the dispatcher presses c and types the job's commands."""
    reason = build_images("build-grub-pxe.sh")
    if reason:
        raise LeftOut(f"no GRUB PXE tree: {reason}")
    shutil.copytree(images_dir() / "grub-pxe" / "boot", folder / "tftp" / "boot", dirs_exist_ok=True)
    return ipxe_device(job, folder, ipxe_board.GRUB_PXE_BOOTFILE, ipxe_board.GRUB_PC_LINES)


def uefi_grub_device(job: dict, folder: Path) -> dict:
    """The lab's UEFI server (share/virtual-lab/uefi_server.py): OVMF network-boots GRUB EFI from the job's TFTP
    root, power through ipmitool and its BMC (ipmi_sim), as tests/dispatcher/test_uefi_grub.py wires it."""
    reason = uefi_board.missing()
    if reason:
        raise LeftOut(f"no virtual UEFI server: {reason}")
    server = UefiServer(folder, name=f"cr-{folder.name}")
    server.start()
    STARTED[folder] = server
    dictionary = server.dictionary(job["device_type"])
    return render_device_config(f"{job['device_type']}-01", dictionary, job.get("context"),
                                device_types_paths=[REPO / "device-types"])


def wants_tap(job: dict) -> bool:
    return (job.get("context") or {}).get("netdevice") == "tap"


def network_root_job(job: dict) -> bool:
    return any(isinstance(a.get("deploy"), dict) and network_root(a["deploy"]) for a in job.get("actions") or [])


class TapBoard:
    """A tap_interface board's network for one job (share/virtual-lab/tap_network.py): the tap with its DHCP
    server; with an NFS root, a ganesha of the job's listening on the tap's host address, the only address of
    ours the board reaches (the run's shared ganesha stays on 127.0.0.1, for QEMU's user networks)."""

    count = 0
    lock = threading.Lock()

    def __init__(self, folder: Path, nfs: bool) -> None:
        if reason := tap_network.missing():
            raise LeftOut(f"context netdevice: tap: no tap network here ({reason})")
        with TapBoard.lock:
            TapBoard.count += 1
            name = f"crtap{os.getpid() % 100000}-{TapBoard.count}"
        self.network = tap_network.TapNetwork(name, folder / "tap")
        self.folder = folder
        self.nfs: GaneshaServer | None = None
        self.wants_nfs = nfs

    def start(self) -> None:
        try:
            self.network.start()
            if self.wants_nfs:
                self.nfs = GaneshaServer(self.folder / "tap-export", free_port(), self.folder / "tap-ganesha",
                                         listen=self.network.host_ip)
                self.nfs.start()
        except (tap_network.TapNetworkError, NfsServerError) as exc:
            raise LeftOut(f"context netdevice: tap: {exc}") from exc

    def dictionary(self) -> str:
        """The lines a lab's admin writes in the device dictionary for this board."""
        lines = f"{{% set tap_interface = '{self.network.name}' %}}\n"
        if self.nfs is not None:
            lines += f"{{% set extra_nfsroot_args = 'port={self.nfs.port}' %}}\n"
        return lines

    def dispatcher_keys(self) -> dict:
        """The worker's addresses as the board sees them: the tap's host side."""
        keys = {"dispatcher_ip": self.network.host_ip}
        if self.nfs is not None:
            keys.update({"nfs_root": str(self.nfs.export_root), "dispatcher_nfs_ip": self.network.host_ip,
                         "nfs_server_check": f"{self.network.host_ip}:{self.nfs.port}"})
        return keys

    def stop(self) -> None:
        if self.nfs is not None:
            self.nfs.stop()
        self.network.stop()


# boards started for one job (the UEFI server's BMC and serial line) by its folder, stopped when it ends
STARTED: dict[Path, UefiServer] = {}
# tap networks made for one job by its folder, removed when it ends
TAP_BOARDS: dict[Path, TapBoard] = {}


def stop_boards(work: Path) -> None:
    """Stop what was started for the job (or the group's roles) in ``work``."""
    for started in (STARTED, TAP_BOARDS):
        for folder in [folder for folder in started if folder == work or work in folder.parents]:
            started.pop(folder).stop()


def docker_device(job: dict, folder: Path) -> dict:
    if DOCKERD.daemon is None:
        raise LeftOut(f"no docker daemon of ours: {DOCKERD.reason}")
    for action in job.get("actions") or []:
        block = action.get("deploy")
        if isinstance(block, dict) and block.get("to") == "docker":
            image = block.get("image")
            DOCKERD.provide(str(image.get("name") if isinstance(image, dict) else image))
    dictionary = "{% extends 'docker.jinja2' %}\n"
    if any(isinstance(action.get("test"), dict) and "services" in action["test"] for action in job.get("actions") or []):
        dictionary += "{% set allow_test_services = true %}\n"  # as the corpus's docker-02 dictionary
    return render_device_config("docker-01", dictionary, job.get("context"), device_types_paths=[REPO / "device-types"])


def board_of(job: dict) -> tuple[str, Any]:
    """The architecture of our images for the job, and the function that renders its virtual board."""
    device_type = str(job.get("device_type", ""))
    if device_type == "qemu":
        arch = str((job.get("context") or {}).get("arch", "amd64"))
        if arch not in ARCHES:
            raise LeftOut(f"QEMU arch {arch!r}: our test images are x86_64, arm64, armhf and ppc only")
        return ARCHES[arch], qemu_device
    if device_type == "x86":
        methods = {a["boot"].get("method") for a in job.get("actions") or [] if isinstance(a.get("boot"), dict)}
        for board_methods, device_maker in (({"ipxe"}, ipxe_device), ({"grub"}, grub_pc_device)):
            if methods <= board_methods:
                return "x86_64", device_maker
        raise LeftOut(f"boot methods {sorted(methods)} on an x86 board: our x86 boards run iPXE or GRUB, not both")
    if device_type == "upsquare":  # an x86 board whose UEFI firmware network-boots GRUB EFI
        return "x86_64", uefi_grub_device
    if device_type == "grub-x86":  # the UEFI server's type: the corpus has only its installer jobs
        commands = {str(a["boot"].get("commands")) for a in job.get("actions") or [] if isinstance(a.get("boot"), dict)}
        if any(c.endswith("-installer") for c in commands):
            raise LeftOut("a Debian/CentOS network installer: it fetches the distribution from its mirror on the "
                          "internet, which the boards here cannot reach")
        raise LeftOut("boots the system an installer job wrote to the board's disk: no installed disk here")
    if device_type == "docker":
        return "x86_64", docker_device
    if not device_type:
        raise LeftOut("a role without a device outside a MultiNode group: nothing to connect to")
    raise LeftOut(f"device type {device_type!r}: real hardware needed")
