"""Android boot images (header versions 0 to 2): take the ramdisk out, put a bigger one back.

The test overlay reaches a phone inside the ramdisk of the boot image it is
flashed with. The layout: a header page, then kernel, ramdisk, second stage,
(v1+) recovery DTBO and (v2) DTB, each padded to the page size.
"""

from __future__ import annotations

import struct
from pathlib import Path

from lava_common.exceptions import JobError

MAGIC = b"ANDROID!"
_SIZES = struct.Struct("<10I")  # kernel size/addr, ramdisk size/addr, second size/addr, tags, page, version, os


def is_boot_image(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def _padded(data: bytes, page: int) -> bytes:
    return data + b"\0" * (-len(data) % page)


def _parts(data: bytes, where: str) -> tuple[int, int, list[bytes]]:
    if len(data) < 1632 or not data.startswith(MAGIC):
        raise JobError(f"{where}: not an Android boot image")
    fields = _SIZES.unpack_from(data, 8)
    kernel, ramdisk, second, page, version = fields[0], fields[2], fields[4], fields[7], fields[8]
    if page not in (2048, 4096, 8192, 16384) or version > 2:
        raise JobError(f"{where}: boot image header version {version}, page size {page}: only v0 to v2 are supported")
    sizes = [kernel, ramdisk, second]
    if version >= 1:
        sizes.append(struct.unpack_from("<I", data, 1632)[0])
    if version == 2:
        sizes.append(struct.unpack_from("<I", data, 1648)[0])
    parts, offset = [], page
    for size in sizes:
        parts.append(data[offset: offset + size])
        if len(parts[-1]) != size:
            raise JobError(f"{where}: the boot image ends inside one of its parts")
        offset += size + (-size % page)
    return page, version, parts


def read_ramdisk(path: Path, where: str) -> bytes:
    return _parts(path.read_bytes(), where)[2][1]


def replace_ramdisk(path: Path, ramdisk: bytes, where: str) -> None:
    data = path.read_bytes()
    page, version, parts = _parts(data, where)
    parts[1] = ramdisk
    header = bytearray(data[:page])
    struct.pack_into("<I", header, 16, len(ramdisk))
    if version >= 1:
        # v1+ records where the recovery DTBO starts, which moves with the ramdisk
        recovery_offset = page + sum(len(_padded(p, page)) for p in parts[:3])
        struct.pack_into("<Q", header, 1636, recovery_offset if parts[3] else 0)
    out = path.with_name(path.name + ".new")
    out.write_bytes(bytes(header) + b"".join(_padded(p, page) for p in parts))
    out.replace(path)
