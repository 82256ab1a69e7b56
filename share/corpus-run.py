#!/usr/bin/env python3
"""Run the reference's sample jobs whose boards have a virtual peer here, adapted only in URLs and devices.

    .venv/bin/python share/corpus-run.py [--corpus ../shared/corpus] [--only NAME ...] [--keep DIR]
                                         [--jobs N] [--timeout-factor F]     (doc/corpus-run.md)

For each valid job of ``jobs/verdicts.json`` (MultiNode submissions split as the server splits
them, with share/corpus-coverage.py's reading) whose device type has a peer here (``qemu`` for
amd64/arm64/armhf, ``x86`` on the virtual iPXE board, ``docker``), the job is adapted:

* artefact URLs -> local test images of the same role and architecture (share/test-images):
  kernel, ramdisk (our busybox initramfs), whole-disk images (a BIOS-bootable disk made here:
  GRUB from build-bootdisk.sh, then our kernel and initramfs), device trees (armhf: from the
  kernel's package), nfsrootfs, modules; recompressed when the job names a compression, checksums
  recomputed; files a test step fetches from ``__FQDN__`` -> an HTTP server of ours;
* words our QEMU refuses (a device name's typo, a CPU the machine does not take) -> ours, said on
  the job's line (QEMU_FIXES);
* the board answers with the job's own prompts: a small cpio archive appended to our initramfs
  sets the hostname (``root@debian:`` -> hostname ``debian``), the shell prompt, and a login
  prompt with the job's password (or none) when the job logs in;
* git test-definition repositories -> one local git repository (file:// URL) holding
  ``../shared/corpus/testdefs`` (matched by file name) and share/corpus-run-testdefs (ours) at the
  paths the jobs name; a pinned ``revision`` of the reference's repository is dropped;
* test services -> a compose file of ours (busybox httpd) at the job's path, in a file:// tarball
  (the job's compression) or a local git repository; the docker device allows test services;
* the device -> one of our virtual boards; jobs with an ``nfsrootfs`` get our nfs-ganesha
  (share/virtual-lab/nfs_server.py) as the worker's NFS server;
* ``context: netdevice: tap`` -> the dictionary's ``tap_interface``, a tap made for the job with a
  DHCP server of ours on it (share/virtual-lab/tap_network.py; an NFS root: a ganesha of the job's on
  the tap's host address), removed when the job ends; our board's /init takes a DHCP lease.

Single-node jobs run through ``lava-run`` against the virtual board; MultiNode groups run each
role's ``lava-run`` at once with our coordinator (tests/coordinator_daemon.py); a secondary-connection
role (``connection: ssh``) runs on its host role's device, minimised as the server does. Prints one line per
job (Complete, Incomplete with the first error, or left out with the reason), then the counts.
"""

from __future__ import annotations

import argparse
import bz2
import functools
import gzip
import hashlib
import importlib.util
import json
import lzma
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import private_dockerd  # noqa: E402 - share/virtual-lab is not a package
import tap_network  # noqa: E402
import uefi_board  # noqa: E402
from coordinator_daemon import Daemon  # noqa: E402
from nfs_server import GaneshaServer, NfsServerError  # noqa: E402
from uefi_server import UefiServer  # noqa: E402

from lava_scheduler.device_config import render_device_config  # noqa: E402
from lava_scheduler.device_config.minimise import minimised_config  # noqa: E402

_spec = importlib.util.spec_from_file_location("corpus_coverage", REPO / "share" / "corpus-coverage.py")
corpus_coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus_coverage)

OUR_TESTDEFS = REPO / "share" / "corpus-run-testdefs"
IPXE_POWER = REPO / "tests" / "dispatcher" / "virtual-ipxe" / "power.sh"
IPXE_ROM = Path("/usr/lib/ipxe/qemu/pxe-e1000.rom")
GRUB_PXE_BOOTFILE = "boot/grub/i386-pc/core.0"
ARCHES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64", "arm": "armhf", "armhf": "armhf"}
KERNELS = {"x86_64": "x86_64/bzImage", "arm64": "arm64/Image", "armhf": "armhf/zImage"}
# the build scripts of an architecture's images beyond build.sh's (cached: they return at once when current)
ARCH_BUILDS = {"armhf": ("build-extra.sh", "build-armhf.sh")}
# QEMU architectures of the corpus we have no images for, with why
NO_IMAGES = {
    "ppc": "QEMU's bamboo machine (a PowerPC 440, BookE) needs a ppc44x kernel and a 32-bit PowerPC busybox: Debian's "
           "archive builds neither (32-bit powerpc is a ports architecture, whose archive is not reachable here; "
           "ppc64el's kernels are 64-bit), and we cross-build no kernel yet (doc/corpus-run.md)",
}
# job text the QEMU we run (7.2) refuses: (machine or None for any, context key, the job's word, ours, why);
# applied to the job's context and said on its line
QEMU_FIXES = (
    (None, "extra_options", "virtio-bk-device", "virtio-blk-device", "QEMU has no device 'virtio-bk-device' (a typo)"),
    ("cubieboard", "cpu", "cortex-a7", "cortex-a8", "QEMU's cubieboard takes only the A10's own cortex-a8"),
)
DEFAULT_PROMPT_SAMPLE = "root@lava:~# "
# boot methods and deploys whose board is not one of ours, with why
FOREIGN_METHODS = {
    "iso-installer": "an x86 ISO installer (the iso-installer helper's work)",
    "qemu-iso": "an x86 ISO installer (the iso-installer helper's work)",
    "monitor": "an MCU firmware image (zephyr/luvos) we cannot substitute",
    "dfu": "an MCU board flashed over DFU (real hardware)",
}
# the network-root images of each architecture (share/test-images)
NETROOT_SCRIPTS = {"arm64": "build-netroot.sh", "x86_64": "build-netroot-x86.sh"}
# jobs that exist to fail: adapting their URLs and checksums would defeat them
MEANT_TO_FAIL = {"jobs/dispatcher/compression_bad.yaml": "a negative sample: its checksums and formats are wrong on purpose"}
UNITS = {"hours", "minutes", "seconds"}
TARBALL_LOCK = threading.Lock()
ANDROID_LABELS = {"system", "userdata", "cache", "boot", "vendor", "recovery"}


SERVICE_IMAGE = "lava/busybox:1"
SERVICE_COMPOSE = """# ours (share/corpus-run.py): a stand-in for the reference's test service
version: "3.7"
services:
  {service}:
    image: {image}
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    volumes: ["./www:/www:ro"]
    stop_signal: SIGKILL
"""


class LeftOut(Exception):
    """The job cannot run here; the message says why."""


# -- test images --------------------------------------------------------------------------------------


def images_dir() -> Path:
    if os.environ.get("LAVA_TEST_IMAGES"):
        return Path(os.environ["LAVA_TEST_IMAGES"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lava" / "test-images"


def build_images(script: str) -> str:
    """Run a share/test-images build script (cached, returns at once when current); why it failed, or ""."""
    proc = subprocess.run(["sh", str(REPO / "share" / "test-images" / script), str(images_dir())],
                          capture_output=True, text=True, timeout=900, check=False)
    return "" if proc.returncode == 0 else f"{script}: " + (proc.stderr or proc.stdout).strip()[-200:]


@dataclass
class Board:
    """What the substituted images must say so that the job's prompts and login match."""

    arch: str
    hostname: str = "lava"
    ps1: str | None = None  # None: our images' own PS1, which follows the cwd
    login: bool = False
    password: str | None = None
    network: bool = False  # the job's test steps fetch files from the lab's server (FQDN)
    tap: bool = False  # the board is on a tap network of the worker's: DHCP gives eth0 its address


def board_for(job: dict, arch: str) -> Board:
    """Hostname, shell prompt and login of a board that answers with the job's first boot's prompts."""
    boot = next((a["boot"] for a in job.get("actions") or [] if "boot" in a), {})
    prompts = boot.get("prompts") or []
    prompts = [prompts] if isinstance(prompts, str) else [str(p) for p in prompts]
    login = boot.get("auto_login") or {}
    board = Board(arch=arch, login=bool(login), password=login.get("password"))
    if not prompts or any(re.search(p, DEFAULT_PROMPT_SAMPLE) for p in prompts):
        hostname = "lava"
    else:
        hostname = ""
        for prompt in prompts:
            match = re.fullmatch(r"root@([\w.-]+):.*", prompt)
            if match and re.search(prompt, f"root@{match.group(1)}:~# "):
                hostname = match.group(1)
                break
        if not hostname:
            hostname = "lava"
            literal = re.sub(r"\\(.)", r"\1", prompts[0])
            if not re.search(prompts[0], literal):
                raise LeftOut(f"no shell prompt of ours matches the job's prompt {prompts[0]!r}")
            board.ps1 = literal + " "
    board.hostname = hostname
    login_prompt = str(login.get("login_prompt", "login:"))
    if login and not re.search(re.escape(login_prompt), f"{hostname} login: "):
        raise LeftOut(f"the job's login prompt {login_prompt!r} is not what our getty prints")
    return board


INIT = """#!/bin/sh
# ours (share/corpus-run.py): the test board's /init, with the job's hostname, prompt and login
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
if [ -f /lib/modules/order ]; then
    for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null; done
fi
if [ -f /etc/modules.order ]; then
    while read -r m; do insmod /lib/modules/$m 2>/dev/null; done </etc/modules.order
fi
hostname -F /etc/hostname
ip link set lo up 2>/dev/null
# QEMU's user network: the guest is 10.0.2.15, the host (our file server) 10.0.2.2
if [ {network} = 1 ] && ip link set eth0 up 2>/dev/null; then
    ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
fi
# a tap network: the worker's DHCP server gives the address, unless our NFS-root ramdisk already took one
if [ {tap} = 1 ] && ip link set eth0 up 2>/dev/null; then
    ip -4 addr show dev eth0 | grep -q inet || udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script >/dev/null
    echo "init: eth0 $(ip -4 -o addr show dev eth0 | awk '{print $4}') router $(ip route | awk '/^default/ {print $3}')"
fi
echo "init: boot done"
# a login prompt of our own rather than getty's: it needs nothing from the console's line settings
while [ {login} = 1 ]; do
    printf '\n%s login: ' "$(hostname)"
    read -r user || continue
    if [ -n {password} ]; then
        printf 'Password: '
        stty -echo 2>/dev/null; read -r pass; stty echo 2>/dev/null; echo
        [ "$pass" = {password} ] || { echo "Login incorrect"; continue; }
    fi
    [ "$user" = root ] && setsid cttyhack /bin/sh -l
done
while true; do setsid cttyhack /bin/sh -l; done
"""
# busybox udhcpc runs this with the lease in its environment ($mask is a prefix length)
UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -z "$router" ] || ip route add default via "${router%% *}" dev "$interface"
    ;;
esac
"""
PROFILE = """export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
export PS1={ps1}
cd "$HOME"
"""


def board_cpio(board: Board, folder: Path) -> Path:
    """A gzip cpio archive that, appended to our initramfs, makes it the job's board (later files win)."""
    tree = folder / "board-tree"
    (tree / "etc").mkdir(parents=True, exist_ok=True)
    init = tree / "init"
    init.write_text(INIT.replace("{login}", "1" if board.login else "0").replace("{network}", "1" if board.network else "0")
                    .replace("{tap}", "1" if board.tap else "0").replace("{password}", shlex.quote(board.password or "")))
    init.chmod(0o755)
    if board.tap:
        script = tree / "etc" / "udhcpc.script"
        script.write_text(UDHCPC_SCRIPT)
        script.chmod(0o755)
    (tree / "etc" / "hostname").write_text(board.hostname + "\n")
    (tree / "etc" / "profile").write_text(PROFILE.format(ps1=shlex.quote(board.ps1 or r"\u@\h:\w\$ ")))
    out = folder / "board.cpio.gz"
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*"))
    proc = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], input=("\n".join(files) + "\n").encode(),
                          capture_output=True, cwd=tree, check=True)
    out.write_bytes(gzip.compress(proc.stdout, mtime=0))
    return out


def ramdisk_for(board: Board, folder: Path) -> Path:
    """Our busybox initramfs of the board's architecture with the job's board archive appended (a tap board:
    and the network card's modules before it)."""
    path = folder / "ramdisk.cpio.gz"
    path.write_bytes((images_dir() / board.arch / "initramfs.cpio.gz").read_bytes()
                     + (netroot_modules(board.arch) if board.tap else b"")
                     + board_cpio(board, folder).read_bytes())
    return path


def netroot_modules(arch: str) -> bytes:
    """The gzip member of our network-root ramdisk that holds the kernel's network (and NFS) modules with their
    /etc/modules.order: the same kernel as our plain initramfs's, whose network card driver is a module."""
    script = NETROOT_SCRIPTS.get(arch)
    reason = build_images(script) if script else f"no network-root images for {arch}"
    if reason:
        raise LeftOut(f"a network card driver for {arch}: {reason}")
    data = (images_dir() / arch / "netroot.cpio.gz").read_bytes()
    first = zlib.decompressobj(wbits=31)
    first.decompress(data)  # build-netroot*.sh: our plain initramfs, then this member
    return first.unused_data


def nfs_rootfs(board: Board, tarball: Path, folder: Path) -> Path:
    """Our arm64 root filesystem tarball with the job's board files (/init, hostname, profile) in place of ours."""
    board_cpio(board, folder)  # writes folder/board-tree
    tree = folder / "board-tree"
    replaced = {f"./{p.relative_to(tree)}" for p in tree.rglob("*") if p.is_file()}
    out = folder / "rootfs.tar"
    with tarfile.open(tarball) as source, tarfile.open(out, "w") as target:
        for member in source:
            if member.name not in replaced and f"./{member.name}" not in replaced:
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
        for name in sorted(replaced):
            target.add(tree / name[2:], arcname=name, recursive=False)
    return out


def nbd_rootfs(board: Board, tarball: Path, folder: Path) -> Path:
    """Our root filesystem as an ext4 image (what nbd-server exports) with the job's board files in place of ours."""
    tree = folder / "nbd-tree"
    tree.mkdir()
    with tarfile.open(nfs_rootfs(board, tarball, folder)) as archive:
        archive.extractall(tree, filter="tar")
    out = folder / "rootfs.ext4"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "lava-root", "-E", "root_owner=0:0", "-d", str(tree),
                    str(out), "32M"], check=True, capture_output=True)
    shutil.rmtree(tree)
    return out


def network_root(deploy: dict) -> bool:
    """The deploy puts the board's root on the network: an nfsrootfs, or an NBD export."""
    images = deploy.get("images") if isinstance(deploy.get("images"), dict) else {}
    return "nfsrootfs" in deploy or isinstance(images.get("nfsrootfs"), dict) or deploy.get("to") == "nbd"


GRUB_CFG = """set timeout=0
linux /boot/bzImage console=ttyS0 panic=-1 loglevel=6
initrd /boot/initrd.gz /boot/board.cpio.gz
boot
"""


def boot_disk(board: Board, folder: Path) -> Path:
    """A raw MBR disk a PC's BIOS boots: GRUB in the MBR gap, partition 2 (ext4) holds /boot.

    The kernel is the disk board's (build-disk.sh), its initramfs loads the virtio, IDE and ext4 modules
    (the test overlay's disk is IDE on x86 boards) and stays in RAM: the disk only boots it.
    """
    if board.arch != "x86_64":
        raise LeftOut(f"a whole-disk image for {board.arch}: we make BIOS-bootable disks for x86_64 only")
    for script in ("build-disk.sh", "build-bootdisk.sh"):
        reason = build_images(script)
        if reason:
            raise LeftOut(f"cannot build the bootable disk: {reason}")
    pieces, disk_images = images_dir() / "bootdisk", images_dir() / "disk" / "x86_64"
    tree = folder / "disk-tree"
    (tree / "boot" / "grub").mkdir(parents=True, exist_ok=True)
    shutil.copy(disk_images / "bzImage", tree / "boot" / "bzImage")
    shutil.copy(disk_images / "initramfs-disk.cpio.gz", tree / "boot" / "initrd.gz")
    shutil.copy(board_cpio(board, folder), tree / "boot" / "board.cpio.gz")
    (tree / "boot" / "grub" / "grub.cfg").write_text(GRUB_CFG)
    part = folder / "part2.ext4"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "lavaboot", "-d", str(tree), "-E", "root_owner=0:0",
                    str(part), "16M"], check=True, capture_output=True)
    first = 4096  # sectors: partition 1 (1 MiB, empty) at 2048, partition 2 after it
    mbr = bytearray((pieces / "boot.img").read_bytes()[:440]) + bytes(6)
    for start, count in ((2048, 2048), (first, part.stat().st_size // 512)):
        mbr += bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + start.to_bytes(4, "little") + count.to_bytes(4, "little")
    mbr += bytes(32) + b"\x55\xaa"
    disk = folder / "disk.img"
    with disk.open("wb") as out:
        out.write(mbr)
        out.write((pieces / "core.img").read_bytes())
        out.seek(first * 512)
        with part.open("rb") as src:
            shutil.copyfileobj(src, out)
    part.unlink()
    return disk


# -- adapting a job -----------------------------------------------------------------------------------


def compress(path: Path, method: str | None) -> Path:
    if not method:
        return path
    data = path.read_bytes()
    out = path.with_name(f"{path.name}.{method}")
    if method == "gz":
        out.write_bytes(gzip.compress(data, mtime=0))
    elif method == "xz":
        out.write_bytes(lzma.compress(data, preset=1))
    elif method == "bz2":
        out.write_bytes(bz2.compress(data))
    elif method == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, path.name)
    else:
        raise LeftOut(f"compression {method!r}: we cannot make it")
    return out


@dataclass
class Adapter:
    """Rewrites one job's URLs and test repositories; remembers what it changed beyond URLs."""

    work: Path
    board: Board
    repo_url: str
    notes: list[str] = field(default_factory=list)
    count: int = 0

    def image(self, label: str, spec: dict, deploy: dict) -> None:
        if not isinstance(spec, dict) or "url" not in spec or str(spec["url"]).startswith("downloads://"):
            return  # downloads:// names a file an earlier deploy fetched
        if spec.get("sparse"):
            raise LeftOut(f"Android images ({label}, sparse): an image kind we cannot substitute")
        if str(spec.get("url", "")).startswith("rclone"):
            raise LeftOut("an rclone:// download: no rclone remote here")
        self.count += 1
        folder = self.work / f"image-{self.count}-{label}"
        folder.mkdir(parents=True)
        path = self.substitute(label, spec, deploy, folder)
        # under the original file name: postprocess steps and image_args may name it
        compression = spec.get("compression")
        name = Path(urlsplit(str(spec["url"])).path).name
        if compression and name.endswith(f".{compression}"):
            name = name[: -len(compression) - 1]
        if name and name != path.name:
            named = folder / "named" / name
            named.parent.mkdir()
            shutil.copyfile(path, named)
            path = named
        path = compress(path, compression)
        spec["url"] = f"file://{path}"
        for algorithm in ("md5sum", "sha256sum", "sha512sum"):
            if algorithm in spec:
                spec[algorithm] = hashlib.new(algorithm[:-3], path.read_bytes()).hexdigest()

    def substitute(self, label: str, spec: dict, deploy: dict, folder: Path) -> Path:
        arch = self.board.arch
        fmt = str(spec.get("format", ""))
        if label == "kernel":
            return images_dir() / KERNELS[arch]
        if label in ("ramdisk", "initrd"):
            if network_root(deploy):
                return self.netroot("netroot.cpio.gz")  # mounts nfsroot= or nbd.server= and switches to it
            return ramdisk_for(self.board, folder)
        if label == "nfsrootfs":
            if NFS.server is None:
                raise LeftOut(f"an NFS root: no NFS server of ours ({NFS.reason})")
            return nfs_rootfs(self.board, self.netroot("rootfs.tar.gz"), folder)
        if label == "nbdroot":
            return nbd_rootfs(self.board, self.netroot("rootfs.tar.gz"), folder)
        if label == "modules":
            tarball = folder / "modules.tar"
            subprocess.run(["tar", "-cf", str(tarball), "-C", str(folder), "--files-from", "/dev/null"], check=True)
            return tarball
        if label == "dtb":
            # the machine's own device tree, from the kernel package of our images (build-armhf.sh)
            dtb = images_dir() / arch / Path(urlsplit(str(spec["url"])).path).name
            if not dtb.is_file():
                raise LeftOut(f"a device tree {dtb.name!r} for {arch}: our kernel packages give none by that name")
            return dtb
        image_arg = str(spec.get("image_arg", ""))
        if fmt == "ext4" or "format=ext4" in image_arg:
            raise LeftOut("a bare ext4 filesystem given to QEMU as format=ext4 (QEMU has no such format)")
        if not image_arg and deploy.get("to") != "downloads":  # a file the board is not given: any payload does
            return ramdisk_for(self.board, folder)
        if "-drive" in image_arg or "-hd" in image_arg or label == "rootfs":
            disk = boot_disk(self.board, folder)
            if fmt == "qcow2" or "format=qcow2" in image_arg:
                qcow = folder / "disk.qcow2"
                subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(disk), str(qcow)], check=True)
                return qcow
            return disk
        raise LeftOut(f"image {label!r} ({deploy.get('to')}): no test image of ours has that role")

    def netroot(self, name: str) -> Path:
        script = NETROOT_SCRIPTS.get(self.board.arch)
        reason = build_images(script) if script else f"no network-root images for {self.board.arch}"
        if reason:
            raise LeftOut(f"a network root filesystem for {self.board.arch}: {reason}")
        return images_dir() / self.board.arch / name

    def add_netroot_ramdisk(self, deploy: dict) -> None:
        """A network-root deploy without a ramdisk gets ours: our kernels mount no NFS or NBD root themselves
        (Debian builds neither ROOT_NFS nor IP_PNP in, and NFS, NBD and the network cards are modules)."""
        if (network_root(deploy) and deploy.get("to") == "tftp" and isinstance(deploy.get("kernel"), dict)
                and not any(isinstance(deploy.get(label), dict) for label in ("ramdisk", "initrd"))):
            deploy["ramdisk"] = {"url": "file:///netroot.cpio.gz"}  # image() puts ours there
            self.notes.append("our network-root ramdisk added (our kernel mounts no NFS root by itself)")

    def job(self, job: dict) -> dict:
        for action in job.get("actions") or []:
            (section, block), = action.items()
            if not isinstance(block, dict):
                continue
            method = block.get("to") if section == "deploy" else block.get("method")
            if method in FOREIGN_METHODS:
                raise LeftOut(FOREIGN_METHODS[method])
            if section == "deploy":
                postprocess = (block.get("postprocess") or {}).get("docker")
                if isinstance(postprocess, dict) and postprocess.get("image"):
                    if DOCKERD.daemon is None:
                        raise LeftOut(f"postprocess in docker: no docker daemon of ours ({DOCKERD.reason})")
                    DOCKERD.provide(str(postprocess["image"]))
                android = sorted(ANDROID_LABELS & set(block.get("images") or {}))
                if android:  # before the others: their kernel and device tree are Android's too
                    raise LeftOut(f"Android images ({', '.join(android)}): an image kind we cannot substitute")
                self.add_netroot_ramdisk(block)
                for label, spec in (block.get("images") or {}).items():
                    self.image(label, spec, block)
                for label in ("kernel", "ramdisk", "initrd", "nfsrootfs", "nbdroot", "modules", "dtb"):
                    if isinstance(block.get(label), dict):
                        self.image(label, block[label], block)
            if section == "test":
                if block.get("monitors"):
                    raise LeftOut("a monitor test of an MCU firmware image we cannot substitute")
                for definition in block.get("definitions") or []:
                    self.definition(definition)
                for service in block.get("services") or []:
                    self.service(service)
        return job

    def service(self, entry: dict) -> None:
        """A test service: our compose file (busybox httpd in SERVICE_IMAGE) at the job's ``path``, in a
        tarball of the job's compression (``from: url``) or a local git repository (``from: git``)."""
        if DOCKERD.daemon is None:
            raise LeftOut(f"test services: no docker daemon of ours ({DOCKERD.reason})")
        DOCKERD.provide(SERVICE_IMAGE)
        name = str(entry.get("service") or entry.get("name") or "service")
        self.count += 1
        root = self.work / f"service-{self.count}-{entry.get('name')}"
        compose = root / str(entry["path"])
        (compose.parent / "www").mkdir(parents=True)
        compose.write_text(SERVICE_COMPOSE.format(service=name, image=SERVICE_IMAGE))
        (compose.parent / "www" / "index.html").write_text(f"{name}\n")
        if entry.get("from") == "git":
            git = ["git", "-C", str(root), "-c", "user.name=corpus-run", "-c", "user.email=corpus-run@localhost"]
            subprocess.run([*git, "init", "-q", "-b", str(entry.get("branch") or "master")], check=True)
            subprocess.run([*git, "add", "-A"], check=True)
            subprocess.run([*git, "commit", "-q", "-m", "test service for corpus-run"], check=True)
            entry["repository"] = f"file://{root}"
            entry.pop("revision", None)
        else:
            tarball = self.work / f"service-{self.count}.tar"
            with tarfile.open(tarball, "w") as archive:
                archive.add(root, arcname=".")
            entry["repository"] = f"file://{compress(tarball, entry.get('compression'))}"
        self.notes.append(f"test service {entry.get('name')}: our busybox httpd")

    def definition(self, definition: dict) -> None:
        source = definition.get("from")
        if source == "git":
            definition["repository"] = self.repo_url
            if definition.pop("revision", None):
                self.notes.append("dropped a pinned revision of the reference's repository")
        elif source == "url":  # a tarball of a repository: ours, packed as the job says
            definition["repository"] = f"file://{repository_tarball(self.repo_url, definition.get('compression'))}"
        elif source == "inline" and FILES.url:
            repository = definition.get("repository")
            run = repository.get("run") if isinstance(repository, dict) else None
            if isinstance(run, dict) and isinstance(run.get("steps"), list):
                run["steps"] = [FILES.rewrite(step) if isinstance(step, str) else step for step in run["steps"]]
        testdef = self.testdef(definition)
        install = testdef.get("install") if isinstance(testdef, dict) else None
        if isinstance(install, dict) and any(key == "deps" or key.startswith("deps-") for key in install):
            # the reference's images are distributions; our busybox boards have no package manager
            skip = definition.setdefault("skip_install", [])
            if isinstance(skip, list) and "deps" not in skip and "all" not in skip:
                skip.append("deps")
                self.notes.append(f"skip_install: deps for {definition.get('name')} (no package manager on busybox)")

    def testdef(self, definition: dict) -> dict:
        if definition.get("from") == "inline":
            return definition.get("repository") or {}
        if definition.get("from") not in ("git", "url"):
            return {}
        path = Path(self.repo_url.removeprefix("file://")) / str(definition.get("path", ""))
        if not path.is_file():
            raise LeftOut(f"test definition {definition.get('path')!r}: neither the corpus nor we have it")
        return yaml.safe_load(path.read_text()) or {}


def repository_tarball(repo_url: str, compression: str | None) -> Path:
    """The test-definition repository as a tarball (paths from its top), compressed as named; made once."""
    repo = Path(repo_url.removeprefix("file://"))
    tarball = repo.with_name("testdefs.tar")
    packed = tarball.with_name(f"testdefs.tar.{compression}") if compression and compression != "none" else tarball
    with TARBALL_LOCK:  # jobs adapted at once share it
        if not tarball.exists():
            subprocess.run(["tar", "-cf", str(tarball), "--exclude=.git", "-C", str(repo), "."], check=True)
        if not packed.exists():
            compress(tarball, compression)
    return packed


def local_git_repos(text: str, repo: Path) -> str:
    """The test definition with the repositories its install step clones (``git-repos``) made local: a bare
    clone of ``repo`` under the original repository's name (the name is the clone's default folder)."""
    testdef = yaml.safe_load(text)
    repos = (testdef.get("install") or {}).get("git-repos") if isinstance(testdef, dict) else None
    if not repos:
        return text

    def local(url: str) -> str:
        clone = repo.parent / "git-repos" / Path(url.rstrip("/")).name
        if not clone.exists():
            subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(clone)], check=True)
        return f"file://{clone}"

    testdef["install"]["git-repos"] = [dict(entry, url=local(str(entry.get("url"))))
                                       if isinstance(entry, dict) else local(str(entry)) for entry in repos]
    return yaml.safe_dump(testdef, sort_keys=False)


def testdef_repository(corpus: Path, jobs: list[dict], work: Path) -> Path:
    """One git repository with every test definition path the jobs name: the corpus's file of that name,
    else ours (share/corpus-run-testdefs); a branch for each branch the jobs name."""
    repo = work / "testdefs"
    repo.mkdir()
    ours = {p.relative_to(OUR_TESTDEFS).as_posix(): p for p in OUR_TESTDEFS.rglob("*.yaml")}
    corpus_files = {p.name: p for p in (corpus / "testdefs").glob("*.yaml")}
    branches = set()
    for job in jobs:
        for action in job.get("actions") or []:
            block = action.get("test") if isinstance(action, dict) else None
            for definition in (block or {}).get("definitions") or [] if isinstance(block, dict) else []:
                path = str(definition.get("path", ""))
                if definition.get("from") not in ("git", "url") or not path:
                    continue
                source = ours.get(path) or corpus_files.get(Path(path).name)
                if source:
                    (repo / path).parent.mkdir(parents=True, exist_ok=True)
                    (repo / path).write_text(source.read_text())
                if definition.get("branch"):
                    branches.add(str(definition["branch"]))
    git = ["git", "-C", str(repo), "-c", "user.name=corpus-run", "-c", "user.email=corpus-run@localhost"]
    subprocess.run([*git, "init", "-q", "-b", "master"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "test definitions for corpus-run"], check=True)
    # what install steps clone: the same content, so the clones are made from this first commit
    for path in sorted(repo.rglob("*.yaml")):
        text = path.read_text()
        rewritten = local_git_repos(text, repo)
        if rewritten != text:
            path.write_text(rewritten)
    subprocess.run([*git, "commit", "-q", "-a", "--allow-empty", "-m", "git-repos made local"], check=True)
    for branch in sorted(branches):
        subprocess.run([*git, "branch", branch], check=True)
    return repo


# -- the virtual boards -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    if not IPXE_ROM.exists():
        raise LeftOut("ipxe-qemu is not installed: no virtual iPXE board")
    port = free_port()
    power = f"{IPXE_POWER} {{}} {folder / 'board'} {port} {folder / 'tftp'} {IPXE_ROM} {bootfile}".rstrip()
    dictionary = (
        "{% extends 'x86.jinja2' %}\n"
        f"{{% set connection_command = 'socat STDIO,raw,echo=0 TCP:127.0.0.1:{port},retry=300,interval=0.1' %}}\n"
        f"{{% set power_on_command = '{power.format('on')}' %}}\n"
        f"{{% set power_off_command = '{power.format('off')}' %}}\n"
        "{% set boot_character_delay = 20 %}\n"
    ) + extra
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
    # GRUB prints nothing when it hands over to the kernel: the kernel's own first line is what the login waits for.
    # GRUB reads the keys SeaBIOS takes from the serial line at each timer tick (55 ms): slower typing than iPXE
    return ipxe_device(job, folder, GRUB_PXE_BOOTFILE, "{% set grub_final_message = '' %}\n"
                       "{% set boot_character_delay = 80 %}\n")


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


class Dockerd:
    """A private docker daemon (share/virtual-lab/private_dockerd.py) whose images are all our busybox
    root filesystem, under the names the jobs ask for (no registry is reachable)."""

    def __init__(self) -> None:
        self.daemon: private_dockerd.PrivateDockerd | None = None
        self.reason = "not started"
        self.tags: set[str] = set()

    def start(self) -> None:
        self.reason = private_dockerd.available() or build_images("build-container-rootfs.sh")
        if self.reason:
            return
        daemon = private_dockerd.PrivateDockerd(Path(tempfile.mkdtemp(prefix="lava-cr-dk-", dir="/tmp")))
        daemon.start()
        self.daemon = daemon

    def provide(self, tag: str) -> None:
        if tag not in self.tags:
            self.daemon.import_image(images_dir() / "containers" / "busybox-rootfs.tar", tag)
            self.tags.add(tag)

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
            self.daemon.remove_scratch()
            self.daemon = None


DOCKERD = Dockerd()


class Nfs:
    """An nfs-ganesha of ours (share/virtual-lab/nfs_server.py, as the lab's and the tests') exporting one
    folder, the workers' ``nfs_root``, on a free port of 127.0.0.1: the boards reach it as 10.0.2.2."""

    def __init__(self) -> None:
        self.server: GaneshaServer | None = None
        self.reason = "not started"

    def start(self, folder: Path) -> None:
        server = GaneshaServer(folder / "export", free_port(), folder / "ganesha")
        try:
            server.start()
        except NfsServerError as exc:
            self.reason = str(exc)
            return
        self.server = server

    def dispatcher_keys(self) -> dict:
        if self.server is None:
            return {}
        return {"nfs_root": str(self.server.export_root), "dispatcher_nfs_ip": "10.0.2.2",
                "nfs_server_check": f"127.0.0.1:{self.server.port}"}

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


NFS = Nfs()


class Files:
    """An HTTP server of ours on a free port of 127.0.0.1 (the boards' 10.0.2.2) for the files the jobs' test
    steps fetch from the reference lab's server (``wget __FQDN__/modules.tar.gz``): each name gets a file of
    ours of that kind (a ``.tar.gz``: a small modules tarball)."""

    def __init__(self) -> None:
        self.server: ThreadingHTTPServer | None = None
        self.folder: Path | None = None
        self.url = ""
        self.lock = threading.Lock()

    def start(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(QuietFiles, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.folder, self.url = folder, f"http://10.0.2.2:{self.server.server_address[1]}"

    def rewrite(self, step: str) -> str:
        """The step with each ``__FQDN__/name`` made a URL of ours, the file made."""
        def ours(match: re.Match) -> str:
            name = Path(match.group(1)).name
            if not name.endswith((".tar.gz", ".tgz")):
                raise LeftOut(f"a test step fetches {match.group(0)!r}: no file of ours of that kind")
            with self.lock:  # jobs adapted at once may name the same file: written once, whole
                if not (self.folder / name).exists():
                    note = self.folder / "README.corpus-run"
                    note.write_text("ours (share/corpus-run.py): what the job's test step fetched for its modules\n")
                    with tarfile.open(self.folder / f".{name}", "w:gz") as archive:
                        archive.add(note, arcname="lib/modules/README.corpus-run")
                    (self.folder / f".{name}").rename(self.folder / name)
            return f"{self.url}/{name}"
        return re.sub(r"__FQDN__/(\S+)", ours, step)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server, self.url = None, ""


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


FILES = Files()


def board_of(job: dict) -> tuple[str, Any]:
    """The architecture of our images for the job, and the function that renders its virtual board."""
    device_type = str(job.get("device_type", ""))
    if device_type == "qemu":
        arch = str((job.get("context") or {}).get("arch", "amd64"))
        if arch in NO_IMAGES:
            raise LeftOut(f"QEMU arch {arch!r}: {NO_IMAGES[arch]}")
        if arch not in ARCHES:
            raise LeftOut(f"QEMU arch {arch!r}: our test images are x86_64, arm64 and armhf only")
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


# -- running ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    state: str  # Complete, Incomplete, left out
    detail: str = ""


def dispatcher_config(folder: Path, coordinator: Path | None) -> Path:
    path = folder / "dispatcher.yaml"
    config = {"dispatcher_download_dir": str(folder / "dl"), "tftp_root": str(folder / "tftp"),
              "prefix": "cr-", "dispatcher_ip": "10.0.2.2"}
    if coordinator:
        config["coordinator_config"] = str(coordinator)
    if DOCKERD.daemon is not None:
        config["docker_host"] = DOCKERD.daemon.host
    config.update(NFS.dispatcher_keys())
    if folder in TAP_BOARDS:
        config.update(TAP_BOARDS[folder].dispatcher_keys())
    path.write_text(yaml.safe_dump(config))
    return path


def lava_run(folder: Path, job: dict, device: dict, job_id: str, coordinator: Path | None = None) -> subprocess.Popen:
    (folder / "job.yaml").write_text(yaml.safe_dump(job))
    (folder / "device.yaml").write_text(yaml.safe_dump(device))
    cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", job_id, "--output-dir", str(folder / "out"),
           "--device", str(folder / "device.yaml"), "--dispatcher", str(dispatcher_config(folder, coordinator)),
           str(folder / "job.yaml")]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=(folder / "log.jsonl").open("w"), cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def finish(proc: subprocess.Popen, folder: Path, timeout: float) -> tuple[str, str]:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return "Incomplete", f"lava-run still running after {timeout:.0f} s"
    result_file = folder / "out" / "result.yaml"
    result = (yaml.safe_load(result_file.read_text()) if result_file.exists() else None) or {}
    if proc.returncode == 0 and result.get("result") == "pass":
        return "Complete", results_summary(folder)
    return "Incomplete", str(result.get("error_msg") or f"lava-run exit {proc.returncode}")[:300]


def results_summary(folder: Path) -> str:
    """'N test cases: P pass, F fail' from the results lava-run logged, the job's own excluded."""
    counts: Counter[str] = Counter()
    for line in (folder / "log.jsonl").read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            msg = record.get("msg")
            if record.get("lvl") == "results" and isinstance(msg, dict) and msg.get("definition") != "lava":
                counts[str(msg.get("result"))] += 1
    if not counts:
        return "no test cases"
    return f"{sum(counts.values())} test cases: " + ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))


def job_timeout(job: dict) -> float:
    job_limit = ((job.get("timeouts") or {}).get("job") or {"minutes": 10})
    seconds = sum(float(job_limit.get(k, 0)) * m for k, m in (("hours", 3600), ("minutes", 60), ("seconds", 1)))
    return seconds + 60


def scale_timeouts(value: Any, factor: float) -> None:
    """Multiply every duration (a mapping of hours/minutes/seconds) of a job or device by ``factor``, in place."""
    if isinstance(value, list):
        for item in value:
            scale_timeouts(item, factor)
    elif isinstance(value, dict):
        for item in value.values():
            if isinstance(item, dict) and UNITS & set(item):  # a duration: {minutes: 5}
                for unit in UNITS & set(item):
                    if isinstance(item[unit], (int, float)):
                        scaled = item[unit] * factor
                        item[unit] = int(scaled) if scaled == int(scaled) else scaled  # the schema wants whole numbers
            scale_timeouts(item, factor)


def adapt_job(job: dict, work: Path, repo: Path, timeout_factor: float = 1) -> tuple[dict, list[str]]:
    """The job (a MultiNode submission whole, before the split) with our images under ``work``, our test
    repository ``repo`` and the prompts' board, timeouts scaled; notes on other changes. No device: what a lab
    whose worker may read ``work`` and ``repo`` (lava-worker --allow-file-dir) takes as it is."""
    # a MultiNode submission's roles name their device types and contexts (a sub-job, split, has its own)
    roles = ((job.get("protocols") or {}).get("lava-multinode") or {}).get("roles") or {}
    whole = "device_type" not in job and roles and all(isinstance(role, dict) for role in roles.values())
    boards = {board_of({**job, **role}) for role in roles.values()} if whole else {board_of(job)}
    if len(boards) != 1:
        raise LeftOut("roles on boards of different architectures: one substituted image set per job")
    (arch, device_maker), = boards
    for script in ARCH_BUILDS.get(arch, ()):
        if reason := build_images(script):
            raise LeftOut(f"cannot build the {arch} images: {reason}")
    # a container's prompt is its image's: only the boards that boot our images take the job's
    board = Board(arch) if device_maker is docker_device else board_for(job, arch)
    board.tap = device_maker is qemu_device and wants_tap(job)
    # FILES is on 127.0.0.1, which QEMU's user network gives the board as 10.0.2.2: not a tap board's
    board.network = not board.tap and bool(FILES.url) and "__FQDN__/" in str([a.get("test") for a in job.get("actions") or []])
    adapter = Adapter(work, board, f"file://{repo}")
    adapted = adapter.job(job)
    for context in [adapted.get("context"), *(role.get("context") for role in roles.values() if isinstance(role, dict))]:
        if isinstance(context, dict):
            adapter.notes += fix_for_our_qemu(context)
    if timeout_factor != 1:
        scale_timeouts(adapted, timeout_factor)
        adapter.notes.append(f"timeouts x{timeout_factor:g}")
    return adapted, adapter.notes


def fix_for_our_qemu(context: dict) -> list[str]:
    """Replace, in place, the context's words the QEMU we run refuses (QEMU_FIXES); a note for each."""
    notes = []
    for machine, key, theirs, ours, why in QEMU_FIXES:
        value = context.get(key)
        if (machine and context.get("machine") != machine) or value is None or theirs not in str(value):
            continue
        fixed = [str(item).replace(theirs, ours) for item in value] if isinstance(value, list) else \
            str(value).replace(theirs, ours)
        context[key] = fixed
        notes.append(f"context {key}: {theirs} -> {ours} ({why})")
    return notes


def adapt(job: dict, work: Path, repo: Path, timeout_factor: float = 1) -> tuple[dict, dict, list[str]]:
    """The job with our images, test repository and prompts' board; the device; notes on other changes."""
    adapted, notes = adapt_job(job, work, repo, timeout_factor)
    device = board_of(adapted)[1](adapted, work)
    # the device's per-action timeouts too: they come before the job's default action timeout
    scale_timeouts(device, timeout_factor)
    return adapted, device, notes


def run_single(label: str, job: dict, work: Path, repo: Path, timeout_factor: float = 1) -> Outcome:
    try:
        adapted, device, notes = adapt(job, work, repo, timeout_factor)
    except LeftOut as exc:
        return Outcome(label, "left out", str(exc))
    proc = lava_run(work, adapted, device, "1")
    state, detail = finish(proc, work, job_timeout(adapted))
    return Outcome(label, state, "; ".join([detail, *notes]).strip("; "))


def ssh_host_device(device: dict, folder: Path) -> dict:
    """A host role's board as a lab's dictionary gives it to its secondary connections: the worker's key
    (made here), root, port 22, the usual ssh options. The address is whatever the host's test sends."""
    key = folder / "worker-key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    options = ["-o", "PasswordAuthentication=no", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    device["actions"]["deploy"]["methods"]["ssh"] = {"identity_file": str(key), "user": "root", "port": 22,
                                                     "host": "", "options": options}
    return device


def adapt_guest(job: dict, folder: Path, repo: Path, timeout_factor: float, host: tuple[dict, dict]) -> tuple[dict, dict, list[str]]:
    """A secondary-connection sub-job: adapted as a job on its host's board, run with the host device's
    configuration minimised (what the server hands the host's worker)."""
    host_job, host_device = host
    shaped = {**job, "device_type": host_job.get("device_type"), "context": host_job.get("context") or {}}
    adapted, notes = adapt_job(shaped, folder, repo, timeout_factor)
    for key in ("device_type", "context"):
        if key not in job:
            adapted.pop(key, None)
    return adapted, minimised_config(host_device), [*notes, "device: the host role's, minimised"]


def run_group(name: str, subs: list[tuple[str, dict]], work: Path, repo: Path, coordinator: Path,
              timeout_factor: float = 1) -> list[Outcome]:
    """Every role of a MultiNode group at once, each its own lava-run (and QEMU, a role with a device), one
    coordinator. A secondary-connection role (host_role) runs on its host role's device, minimised."""
    prepared: list[Any] = [None] * len(subs)
    hosts: dict[str, tuple[dict, dict]] = {}
    # the roles with a device first: a guest's device is its host's
    for index in sorted(range(len(subs)), key=lambda i: "host_role" in subs[i][1]):
        label, job = subs[index]
        folder = work / f"role-{index}"
        folder.mkdir()
        role = job["protocols"]["lava-multinode"]["role"]
        try:
            if "host_role" in job:
                if job["host_role"] not in hosts:
                    raise LeftOut(f"host_role {job['host_role']!r}: no role of the group with a device by that name")
                adapted, device, notes = adapt_guest(job, folder, repo, timeout_factor, hosts[job["host_role"]])
            else:
                adapted, device, notes = adapt(job, folder, repo, timeout_factor)
                if any(other.get("host_role") == role for _, other in subs):
                    device = ssh_host_device(device, folder)
                hosts[role] = (adapted, device)
        except LeftOut as exc:
            return [Outcome(sub_label, "left out", f"{label}: {exc}") for sub_label, _ in subs]
        adapted["protocols"]["lava-multinode"]["target_group"] = f"corpus-run-{os.getpid()}-{name}"
        prepared[index] = (label, folder, adapted, device, notes)
    procs = [(label, folder, lava_run(folder, adapted, device, str(index + 1), coordinator), notes)
             for index, (label, folder, adapted, device, notes) in enumerate(prepared)]
    outcomes = []
    for label, folder, proc, notes in procs:
        state, detail = finish(proc, folder, job_timeout(prepared[0][2]))
        outcomes.append(Outcome(label, state, "; ".join([detail, *notes]).strip("; ")))
    return outcomes


def corpus_jobs(corpus: Path, only: list[str]) -> list[tuple[str, list[tuple[str, dict]]]]:
    verdicts = json.loads((corpus / "jobs" / "verdicts.json").read_text())
    found = []
    for name, verdict in sorted(verdicts.items()):
        if verdict["reference_verdict"] != "valid" or (only and not any(o in name for o in only)):
            continue
        # (label, definition): the host device type corpus-coverage.py adds is the host role's, which run_group finds
        found.append((name, [(label, job) for label, job, *_ in corpus_coverage.definitions(corpus / name)]))
    return found


def in_scope(subs: list[tuple[str, dict]]) -> bool:
    """A job of a device type with a peer here: qemu, x86, upsquare, grub-x86, docker (every role of a group that
    has a device)."""
    types = {str(job.get("device_type", "")) for _, job in subs}
    return bool(types - {""}) and types - {""} <= {"qemu", "x86", "upsquare", "grub-x86", "docker"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--only", nargs="*", default=[], help="substrings of the job files to run")
    parser.add_argument("--keep", type=Path, help="keep each job's folder (logs, adapted job) under this one")
    parser.add_argument("--all", action="store_true", help="also list the jobs of other device types")
    parser.add_argument("--jobs", type=int, default=1, help="jobs (or groups) run at once")
    parser.add_argument("--timeout-factor", type=float, default=1,
                        help="multiply the jobs' timeouts (a loaded machine; each job's line says so)")
    args = parser.parse_args()
    progress = lambda outcome: print(f"... {outcome.label}: {outcome.state}", file=sys.stderr, flush=True)  # noqa: E731
    outcomes = run_all(args.corpus, args.only, args.keep, args.all, args.jobs, progress, args.timeout_factor)
    for outcome in outcomes:
        print(f"{outcome.label}: {outcome.state}" + (f" ({outcome.detail})" if outcome.detail else ""), flush=True)
    counts = Counter(o.state for o in outcomes)
    print(f"\n{counts['Complete']} Complete, {counts['Incomplete']} Incomplete, {counts['left out']} left out "
          f"of {len(outcomes)} jobs and sub-jobs with a virtual peer")
    return 0


def run_all(corpus: Path, only: list[str], keep: Path | None = None, every: bool = False, parallel: int = 1,
            report=lambda outcome: None, timeout_factor: float = 1) -> list[Outcome]:
    """Adapt and run every job in scope (``only``: substrings of the file names); outcomes in corpus order."""
    jobs = corpus_jobs(corpus, only)
    base = keep or Path(tempfile.mkdtemp(prefix="corpus-run-"))
    base.mkdir(parents=True, exist_ok=True)
    coordinator = None

    def one(index: int, name: str, subs: list[tuple[str, dict]]) -> list[Outcome]:
        if not in_scope(subs):
            return [Outcome(name, "left out", "real hardware needed")] if every else []
        if name in MEANT_TO_FAIL:
            return [Outcome(name, "left out", MEANT_TO_FAIL[name])]
        work = base / f"{index:03}-{Path(name).stem}"
        work.mkdir()
        try:
            if "lava-multinode" in (subs[0][1].get("protocols") or {}):
                found = run_group(Path(name).stem, subs, work, repo, coordinator.config, timeout_factor)
            else:
                found = [run_single(subs[0][0], subs[0][1], work, repo, timeout_factor)]
        finally:
            stop_boards(work)
        for outcome in found:
            outcome.label = name if outcome.label == Path(name).name else f"{name}[{outcome.label.split('[')[-1]}"
            report(outcome)
        return found

    try:
        repo = testdef_repository(corpus, [job for _, subs in jobs for _, job in subs], base)
        if any("lava-multinode" in (subs[0][1].get("protocols") or {}) for _, subs in jobs):
            coordinator = Coordinator(base / "coordinator")
        if any(job.get("device_type") == "docker" or "postprocess" in str(job) for _, subs in jobs for _, job in subs):
            DOCKERD.start()
        if any(in_scope(subs) and "nfsrootfs" in str(subs) for _, subs in jobs):
            NFS.start(base / "nfs")
        if any(in_scope(subs) and "__FQDN__/" in str(subs) for _, subs in jobs):
            FILES.start(base / "files")
        with ThreadPoolExecutor(parallel) as pool:
            done = list(pool.map(lambda item: one(item[0], *item[1]), enumerate(jobs)))
    finally:
        DOCKERD.stop()
        NFS.stop()
        FILES.stop()
        if coordinator is not None:
            coordinator.stop()
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return [outcome for found in done for outcome in found]


class Coordinator:
    """Our lava-coordinator (tests/coordinator_daemon.py's daemon) on a free port, for the run's groups."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.daemon = Daemon(folder)
        self.daemon.start()
        self.config = self.daemon.config_for_clients(folder / "clients.conf")

    def stop(self) -> None:
        self.daemon.stop()


if __name__ == "__main__":
    sys.exit(main())
