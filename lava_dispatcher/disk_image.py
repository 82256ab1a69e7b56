"""Put files into the ext2/3/4 filesystem of a disk image without mounting it.

    partitions(image)                       -> [Partition(number, start, size)], from the MBR or GPT
    filesystem_offset(image, index, where)  -> byte offset of partition ``index`` (0-based, in the order
                                               of the partition numbers), or 0 for ``None``
    write_tree(image, tree, offset)         -> every file, directory and symlink under ``tree`` written
                                               at the same path in the filesystem (``debugfs -w``)
    make_filesystem(tree, image, size_mb)   -> a new ext2 image holding ``tree`` (``mke2fs -d``); its UUID
    with_raw_image(image, kind)             -> context manager: a qcow2 or Android sparse image is
                                               converted to raw for the edit and back afterwards

No loop device, no root, no libguestfs appliance: e2fsprogs write the filesystem directly
(``image?offset=N`` is e2fsprogs' own way to name a filesystem inside a disk). Files land owned by
root, with their own modes.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

from lava_common.exceptions import InfrastructureError, JobError

SECTOR = 512
QCOW2_MAGIC = b"QFI\xfb"
SPARSE_MAGIC = b"\x3a\xff\x26\xed"
_EXTENDED_TYPES = {0x05, 0x0F, 0x85}
_GPT_SIGNATURE = b"EFI PART"
_TOOL_TIMEOUT = 600
# what debugfs says when the script removes a file that is not there yet (it removes before it writes)
_HARMLESS = ("File not found by ext2_lookup",)


class Partition(NamedTuple):
    number: int  # as the kernel names it: /dev/vda<number>
    start: int  # bytes from the start of the disk
    size: int  # bytes


def image_kind(path: Path) -> str:
    """``qcow2``, ``sparse`` (Android) or ``raw``, from the file's first bytes."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == QCOW2_MAGIC:
        return "qcow2"
    if head == SPARSE_MAGIC:
        return "sparse"
    return "raw"


def _mbr_entries(table: bytes) -> list[tuple[int, int, int]]:
    """(type, first LBA, sectors) of the four slots of a partition table sector."""
    return [struct.unpack_from("<4xB3xII", table, 446 + 16 * slot) for slot in range(4)]


def _logical_partitions(handle: BinaryIO, extended_lba: int) -> list[Partition]:
    found = []
    ebr_lba = extended_lba
    number = 5
    seen: set[int] = set()
    while ebr_lba not in seen and len(found) < 128:
        seen.add(ebr_lba)
        handle.seek(ebr_lba * SECTOR)
        ebr = handle.read(SECTOR)
        if len(ebr) < SECTOR or ebr[510:512] != b"\x55\xaa":
            break
        (kind, first, count), (next_kind, next_first, _), *_ = _mbr_entries(ebr)
        if kind and count:
            found.append(Partition(number, (ebr_lba + first) * SECTOR, count * SECTOR))
            number += 1
        if next_kind not in _EXTENDED_TYPES or not next_first:
            break
        ebr_lba = extended_lba + next_first
    return found


def _gpt_partitions(handle: BinaryIO) -> list[Partition]:
    handle.seek(SECTOR)
    header = handle.read(92)
    entries_lba, count, entry_size = struct.unpack_from("<QII", header, 72)
    if entry_size < 128 or count > 1024:
        return []
    handle.seek(entries_lba * SECTOR)
    table = handle.read(count * entry_size)
    found = []
    for index in range(count):
        entry = table[index * entry_size:(index + 1) * entry_size]
        if len(entry) < 48 or entry[:16] == b"\0" * 16:
            continue
        first, last = struct.unpack_from("<QQ", entry, 32)
        found.append(Partition(index + 1, first * SECTOR, (last - first + 1) * SECTOR))
    return found


def partitions(image: Path) -> list[Partition]:
    """The partitions of a raw disk image, in the order of their numbers; [] without a partition table."""
    with image.open("rb") as handle:
        mbr = handle.read(SECTOR)
        if len(mbr) < SECTOR or mbr[510:512] != b"\x55\xaa":
            return []
        entries = _mbr_entries(mbr)
        if any(kind == 0xEE for kind, _, _ in entries):
            handle.seek(SECTOR)
            if handle.read(8) == _GPT_SIGNATURE:
                return _gpt_partitions(handle)
        found = []
        for slot, (kind, first, count) in enumerate(entries):
            if not kind or not count:
                continue
            if kind in _EXTENDED_TYPES:
                found += _logical_partitions(handle, first)
            else:
                found.append(Partition(slot + 1, first * SECTOR, count * SECTOR))
    return sorted(found)


def filesystem_offset(image: Path, index: int | None, where: str) -> int:
    """Byte offset of the filesystem: the partition at ``index`` (0-based), or the whole image."""
    if index is None:
        return 0
    found = partitions(image)
    if index >= len(found):
        listed = ", ".join(f"{p.number} at {p.start}" for p in found) or "no partition table"
        raise JobError(
            f"{where}: the image '{image.name}' has no partition {index} "
            f"(counted from 0; {len(found)} found: {listed})"
        )
    return found[index].start


def _run(argv: list[str], what: str) -> subprocess.CompletedProcess:
    # e2fsprogs live in /sbin, which a worker's service account may not have on its PATH
    path = os.pathsep.join([os.environ.get("PATH", ""), "/sbin", "/usr/sbin"])
    binary = shutil.which(argv[0], path=path)
    if binary is None:
        raise InfrastructureError(f"{what} needs the '{argv[0]}' program on the worker")
    try:
        return subprocess.run([binary, *argv[1:]], capture_output=True, text=True, timeout=_TOOL_TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise InfrastructureError(f"{what}: '{argv[0]}' took more than {_TOOL_TIMEOUT} s") from exc


def _quote(path: str) -> str:
    # debugfs reads its script word by word; double quotes keep spaces in names together
    if '"' in path or "\n" in path:
        raise JobError(f"cannot write '{path}' into an image: quotes and newlines are not allowed in names")
    return f'"{path}"'


def _subdirectories(target: str, directory: str) -> set[str]:
    """Names of the folders already in ``directory`` of the filesystem (``debugfs ls -p``)."""
    proc = _run(["debugfs", "-R", f"ls -p {_quote(directory)}", target], "reading the image")
    found = set()
    for line in proc.stdout.splitlines():
        fields = line.split("/")  # /inode/mode/uid/gid/name/size/
        if len(fields) >= 7 and fields[2].startswith("04") and fields[5] not in (".", ".."):
            found.add(fields[5])
    return found


def debugfs_script(tree: Path, target: str) -> list[str]:
    """debugfs commands that put ``tree`` at the root of the filesystem ``target``, owned by root.

    A folder already in the image is kept as it is (debugfs' mkdir over one would corrupt it); only
    folders whose parent was already there are looked up, so a new top folder costs one lookup.
    """
    lines: list[str] = []
    created: set[str] = set()
    known: dict[str, set[str]] = {}
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        relative = Path(dirpath).relative_to(tree).as_posix()
        parent = "/" if relative == "." else f"/{relative}"
        for name in [*sorted(dirnames), *sorted(filenames)]:
            path = Path(dirpath) / name
            target_path = f"{parent.rstrip('/')}/{name}"
            info = path.lstat()
            quoted = _quote(target_path)
            if stat.S_ISDIR(info.st_mode):
                if parent not in created:
                    existing = known.setdefault(parent, _subdirectories(target, parent))
                    if name in existing:
                        continue
                created.add(target_path)
                lines.append(f"mkdir {quoted}")
            elif stat.S_ISLNK(info.st_mode):
                lines += [f"rm {quoted}", f"symlink {quoted} {_quote(os.readlink(path))}"]
                continue
            elif stat.S_ISREG(info.st_mode):
                lines += [f"rm {quoted}", f"write {_quote(str(path))} {quoted}"]
            else:
                continue  # devices and sockets have no place in an overlay
            lines += [f"sif {quoted} mode 0{info.st_mode:o}", f"sif {quoted} uid 0", f"sif {quoted} gid 0"]
    return lines


def write_tree(image: Path, tree: Path, offset: int = 0) -> None:
    """Write ``tree`` into the ext filesystem that starts ``offset`` bytes into ``image``."""
    target = f"{image}?offset={offset}" if offset else str(image)
    script = image.with_name(image.name + ".debugfs")
    script.write_text("\n".join(debugfs_script(tree, target)) + "\n")
    try:
        proc = _run(["debugfs", "-w", "-f", str(script), target], f"writing into '{image.name}'")
    finally:
        script.unlink(missing_ok=True)
    problems = [
        line for line in proc.stderr.splitlines()
        if line.strip() and not line.startswith("debugfs ") and not any(h in line for h in _HARMLESS)
    ]
    if proc.returncode != 0 or problems:
        detail = "; ".join(problems[:3]) or proc.stderr.strip()[-300:]
        where = f" at offset {offset}" if offset else ""
        raise JobError(f"cannot write into the filesystem of '{image.name}'{where} (not ext2/3/4?): {detail}")


def make_filesystem(tree: Path, image: Path, size_mb: int, fs_type: str = "ext2") -> str:
    """A new ``fs_type`` image of ``size_mb`` MiB holding ``tree`` at its root; returns its UUID."""
    fs_uuid = str(uuid.uuid4())
    proc = _run(
        ["mke2fs", "-q", "-F", "-t", fs_type, "-U", fs_uuid, "-L", "lava-overlay", "-d", str(tree),
         "-E", "root_owner=0:0", str(image), f"{size_mb}M"],
        "building the overlay disk",
    )
    if proc.returncode != 0:
        raise JobError(f"cannot build the overlay disk '{image.name}': {proc.stderr.strip()[-300:]}")
    return fs_uuid


def convert(source: Path, dest: Path, kind: str, to: str) -> None:
    """qcow2 <-> raw with qemu-img, sparse <-> raw with simg2img/img2simg."""
    if "sparse" in (kind, to):
        argv = ["simg2img" if kind == "sparse" else "img2simg", str(source), str(dest)]
    else:
        argv = ["qemu-img", "convert", "-q", "-f", kind, "-O", to, str(source), str(dest)]
    proc = _run(argv, f"converting '{source.name}' from {kind} to {to}")
    if proc.returncode != 0:
        raise JobError(f"cannot convert '{source.name}' from {kind} to {to}: {proc.stderr.strip()[-300:]}")


@contextmanager
def with_raw_image(image: Path) -> Iterator[Path]:
    """The image as raw for the time of the block; a qcow2 or sparse image is converted back after it."""
    kind = image_kind(image)
    if kind == "raw":
        yield image
        return
    raw = image.with_name(image.name + ".raw")
    convert(image, raw, kind, "raw")
    try:
        yield raw
        rebuilt = image.with_name(image.name + ".new")
        convert(raw, rebuilt, "raw", kind)
        rebuilt.replace(image)
    finally:
        raw.unlink(missing_ok=True)
