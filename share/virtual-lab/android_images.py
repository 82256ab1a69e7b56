"""Android image formats the virtual fastboot phone reads: sparse images and boot images.

Written from the formats' public descriptions (the sparse header is 28 bytes,
each chunk header 12; a boot image header v0-v2 starts with ``ANDROID!`` and
keeps its parts page-aligned). No third-party code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

SPARSE_MAGIC = 0xED26FF3A
_SPARSE_HEADER = struct.Struct("<IHHHHIIII")  # magic, major, minor, file_hdr_sz, chunk_hdr_sz, blk_sz, blocks, chunks, crc
_CHUNK_HEADER = struct.Struct("<HHII")  # type, reserved, blocks, total_sz (header included)
CHUNK_RAW, CHUNK_FILL, CHUNK_DONT_CARE, CHUNK_CRC32 = 0xCAC1, 0xCAC2, 0xCAC3, 0xCAC4

BOOT_MAGIC = b"ANDROID!"


class ImageError(ValueError):
    """The image is not what it claims to be; the message says where it breaks."""


def is_sparse(data: bytes) -> bool:
    return len(data) >= 4 and struct.unpack_from("<I", data)[0] == SPARSE_MAGIC


def write_sparse(data: bytes, out: BinaryIO) -> int:
    """Expand a sparse image into ``out`` at its block offsets; DONT_CARE leaves what was there.

    Returns the expanded size, which the caller sets as the partition's size.
    """
    if len(data) < _SPARSE_HEADER.size:
        raise ImageError("sparse image: shorter than its header")
    magic, major, _minor, file_hdr, chunk_hdr, blk_sz, blocks, chunks, _crc = _SPARSE_HEADER.unpack_from(data)
    if magic != SPARSE_MAGIC or major != 1 or file_hdr < _SPARSE_HEADER.size or chunk_hdr < _CHUNK_HEADER.size:
        raise ImageError(f"sparse image: unsupported header (version {major}, sizes {file_hdr}/{chunk_hdr})")
    if blk_sz == 0 or blk_sz % 4:
        raise ImageError(f"sparse image: bad block size {blk_sz}")
    offset, block = file_hdr, 0
    for index in range(chunks):
        if offset + chunk_hdr > len(data):
            raise ImageError(f"sparse image: chunk {index} is cut short")
        kind, _, count, total = _CHUNK_HEADER.unpack_from(data, offset)
        body = data[offset + chunk_hdr: offset + total]
        if total < chunk_hdr or len(body) != total - chunk_hdr:
            raise ImageError(f"sparse image: chunk {index} claims {total} bytes, the file ends first")
        size = count * blk_sz
        if kind == CHUNK_RAW:
            if len(body) != size:
                raise ImageError(f"sparse image: raw chunk {index} holds {len(body)} bytes for {count} blocks")
            out.seek(block * blk_sz)
            out.write(body)
        elif kind == CHUNK_FILL:
            if len(body) != 4:
                raise ImageError(f"sparse image: fill chunk {index} has a {len(body)}-byte value")
            out.seek(block * blk_sz)
            pattern = body * (blk_sz // 4)
            for _ in range(count):
                out.write(pattern)
        elif kind not in (CHUNK_DONT_CARE, CHUNK_CRC32):
            raise ImageError(f"sparse image: chunk {index} has unknown type {kind:#x}")
        if kind != CHUNK_CRC32:
            block += count
        offset += total
    if block != blocks:
        raise ImageError(f"sparse image: chunks cover {block} blocks, the header says {blocks}")
    return blocks * blk_sz


@dataclass(frozen=True)
class BootImage:
    kernel: bytes
    ramdisk: bytes
    cmdline: str
    second: bytes = b""
    dtb: bytes = b""


def _pages(size: int, page: int) -> int:
    return (size + page - 1) // page


def parse_boot_image(data: bytes) -> BootImage:
    """Kernel, ramdisk and command line of an Android boot image (header versions 0 to 2)."""
    if not data.startswith(BOOT_MAGIC):
        raise ImageError("boot image: no ANDROID! magic")
    if len(data) < 1632:
        raise ImageError("boot image: shorter than its header")
    (kernel_size, _ka, ramdisk_size, _ra, second_size, _sa, _tags, page,
     version, _os_version) = struct.unpack_from("<10I", data, 8)
    if page not in (2048, 4096, 8192, 16384):
        if version >= 3:
            raise ImageError(f"boot image: header version {version} is not supported (0 to 2 are)")
        raise ImageError(f"boot image: bad page size {page}")
    cmdline = data[64:64 + 512].split(b"\0", 1)[0] + data[608:608 + 1024].split(b"\0", 1)[0]
    offset = page  # the header occupies the first page
    parts = []
    for size in (kernel_size, ramdisk_size, second_size):
        parts.append(data[offset: offset + size])
        if len(parts[-1]) != size:
            raise ImageError("boot image: the file ends inside a part the header announces")
        offset += _pages(size, page) * page
    dtb = b""
    if version == 2 and len(data) >= 1660:
        recovery_size = struct.unpack_from("<I", data, 1632)[0]
        offset += _pages(recovery_size, page) * page
        dtb_size = struct.unpack_from("<I", data, 1648)[0]
        dtb = data[offset: offset + dtb_size]
    if not parts[0]:
        raise ImageError("boot image: no kernel")
    return BootImage(kernel=parts[0], ramdisk=parts[1], second=parts[2], cmdline=cmdline.decode("utf-8", "replace"),
                     dtb=dtb)
