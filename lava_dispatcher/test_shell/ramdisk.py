"""Put an overlay tree into a board's filesystem image: as a tarball, or appended to a cpio ramdisk.

    pack_overlay_tarball(overlay_root, tarball)                 # .tar.gz, entries relative to "/"
    append_overlay_to_cpio(ramdisk_in, overlay_root, ramdisk_out, compression=None)
    detect_compression(path) -> "gz" | "xz" | "zstd" | "bz2" | None

``append_overlay_to_cpio`` decompresses the ramdisk (gz, xz, zstd), appends a second cpio "newc"
archive holding every file, directory and symlink under ``overlay_root`` (the kernel unpacks
concatenated archives in order) and compresses the result again: with ``compression`` when
given ("gz", "xz", "zstd" or "none"), else as the input was. Pure Python except zstd (the
``zstd`` program); no root needed: entries are owned by root on the board, modes are the files'
own (scripts stay executable).
"""

from __future__ import annotations

import gzip
import lzma
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from lava_common.exceptions import InfrastructureError, JobError

if TYPE_CHECKING:
    import tarfile

_MAGICS = {b"\x1f\x8b": "gz", b"\xfd7zXZ": "xz", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2"}
# inode numbers of the appended entries: far above anything a real image uses
_FIRST_INODE = 0x7F000000


def detect_compression(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(6)
    for magic, name in _MAGICS.items():
        if head.startswith(magic):
            return name
    return None


def passages(root: Path) -> set[str]:
    """Folders of an overlay that only lead to the one below them: ``tmp`` of ``/tmp/lava-1``.

    They already exist on the board; an archive entry for one would give it the
    scratch folder's mode (0750 under the worker's umask), so that unpacking at
    ``/`` would close ``/tmp``, or ``/etc`` for a job that chose
    ``lava_test_results_dir: /etc/lava``.
    """
    found: set[str] = set()
    current = root
    while True:
        children = list(current.iterdir())
        if len(children) != 1 or not _real_dir(children[0]):
            return found
        grandchildren = list(children[0].iterdir())
        if len(grandchildren) != 1 or not _real_dir(grandchildren[0]):
            return found
        current = children[0]
        found.add(current.relative_to(root).as_posix())


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def pack_overlay_tarball(overlay_root: Path, tarball: Path) -> Path:
    """tar.gz of ``overlay_root``'s content, owned by root, to extract at the board's ``/``.

    No entries for the ``passages``: tar creates missing leading folders itself
    and leaves existing ones as they are.
    """
    import tarfile  # deferred: 2-3 ms that a cpio ramdisk's overlay, on the way to the boot, does not need

    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    skipped = passages(overlay_root)
    with tarfile.open(tarball, "w:gz") as archive:
        for dirpath, dirnames, filenames in os.walk(overlay_root):
            dirnames.sort()
            for name in [*dirnames, *sorted(filenames)]:
                path = Path(dirpath) / name
                arcname = path.relative_to(overlay_root).as_posix()
                if arcname not in skipped:
                    archive.add(path, arcname=arcname, recursive=False, filter=as_root)
    return tarball


def _newc_entry(name: str, mode: int, size: int, mtime: int, inode: int, nlink: int) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (inode, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, len(encoded), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields) + encoded
    return header + b"\0" * (-len(header) % 4)


# the kernel applies a directory entry's mode to an existing folder: the passages get the usual ones
_PASSAGE_MODES = {"tmp": 0o41777, "var/tmp": 0o41777}


def cpio_newc(tree: Path) -> bytes:
    """A cpio newc archive of ``tree``'s content (names relative to it), ending with its trailer."""
    chunks = []
    inode = _FIRST_INODE
    # unlike tar, the kernel does not create missing folders: the passages stay, with standard modes
    standard = {name: _PASSAGE_MODES.get(name, 0o40755) for name in passages(tree)}
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for name in [*sorted(dirnames), *sorted(filenames)]:
            path = Path(dirpath) / name
            rel = path.relative_to(tree).as_posix()
            info = path.lstat()
            inode += 1
            if stat.S_ISLNK(info.st_mode):
                data = os.readlink(path).encode()
            elif stat.S_ISREG(info.st_mode):
                data = path.read_bytes()
            elif stat.S_ISDIR(info.st_mode):
                data = b""
            else:
                continue  # devices and sockets have no place in an overlay
            nlink = 2 if stat.S_ISDIR(info.st_mode) else 1
            mode = standard.get(rel, info.st_mode)
            chunks.append(_newc_entry(rel, mode, len(data), int(info.st_mtime), inode, nlink))
            chunks.append(data + b"\0" * (-len(data) % 4))
    chunks.append(_newc_entry("TRAILER!!!", 0, 0, 0, 0, 1))
    return b"".join(chunks)


def _decompress(data: bytes, kind: str | None, where: Path) -> bytes:
    try:
        if kind == "gz":
            return gzip.decompress(data)
        if kind == "xz":
            return lzma.decompress(data)
        if kind == "zstd":
            return _zstd(["-dc"], data)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise JobError(f"ramdisk {where.name}: cannot decompress ({kind}): {exc}") from exc
    if kind == "bz2":
        raise JobError(f"ramdisk {where.name}: bzip2 ramdisks are not supported (the kernel cannot read them)")
    return data


def _compress(data: bytes, kind: str | None) -> bytes:
    if kind == "gz":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if kind == "xz":
        # the kernel's xz decoder wants CRC32 checks
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    if kind == "zstd":
        return _zstd(["-q", "-c", "-3"], data)
    return data


def _zstd(args: list[str], data: bytes) -> bytes:
    if not shutil.which("zstd"):
        raise InfrastructureError("the 'zstd' program is needed for zstd ramdisks (apt-get install zstd)")
    proc = subprocess.run(["zstd", *args], input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise JobError(f"zstd failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def append_overlay_to_cpio(
    ramdisk_in: Path, overlay_root: Path, ramdisk_out: Path, compression: str | None = None
) -> Path:
    """Write ``ramdisk_out`` = ``ramdisk_in`` + the overlay as an extra cpio archive."""
    ramdisk_in, ramdisk_out = Path(ramdisk_in), Path(ramdisk_out)
    kind = detect_compression(ramdisk_in)
    data = _decompress(ramdisk_in.read_bytes(), kind, ramdisk_in)
    if not data.startswith(b"070701") and not data.startswith(b"070702"):
        raise JobError(f"ramdisk {ramdisk_in.name} is not a cpio newc archive")
    out_kind = kind if compression is None else (None if compression == "none" else compression)
    if out_kind not in (None, "gz", "xz", "zstd"):
        raise JobError(f"ramdisk compression '{compression}' is not supported (gz, xz, zstd, none)")
    # the next archive must start on a 4-byte boundary; the kernel skips the zero padding
    padded = data + b"\0" * (-len(data) % 4)
    combined = padded + cpio_newc(Path(overlay_root))
    tmp = ramdisk_out.with_name(ramdisk_out.name + ".tmp")
    tmp.write_bytes(_compress(combined, out_kind))
    tmp.replace(ramdisk_out)
    return ramdisk_out
