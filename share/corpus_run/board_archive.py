"""The job's board in our images: a board that answers with the job's own prompts (hostname, shell prompt,
login), as an archive appended to our initramfs, a root filesystem (NFS, NBD) or a BIOS-bootable disk."""

from __future__ import annotations

import gzip
import re
import shlex
import shutil
import subprocess
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from corpus_run.images import NETROOT_SCRIPTS, NETWORK_BUILT_IN, build_images, images_dir
from corpus_run.left_out import LeftOut

DEFAULT_PROMPT_SAMPLE = "root@lava:~# "


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
    if arch in NETWORK_BUILT_IN:
        return b""
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
