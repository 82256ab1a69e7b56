"""Compressed job logs that still answer line ranges.

``output.yaml.gz`` is a series of gzip members, each holding ``CHUNK`` bytes
of the original log (the last one less); ``output.gzi`` holds the byte
offset where each member starts (struct ``=Q``). Concatenated members are an
ordinary gzip file (``zcat`` reads it whole), and a range of bytes of the
original is read by decompressing only the members that hold it. The line
index ``output.idx`` stays as it was: it gives the original byte offsets.
"""

import gzip
import os
import struct
import zlib
from pathlib import Path

from lava_common import file_modes

CHUNK = 1 << 20
OFFSET = struct.Struct("=Q")
COMPRESSED_NAME = "output.yaml.gz"
CHUNKS_NAME = "output.gzi"


class CompressedLog:
    def __init__(self, directory: Path):
        self.path = Path(directory) / COMPRESSED_NAME
        self.chunks_path = Path(directory) / CHUNKS_NAME

    def exists(self) -> bool:
        return self.chunks_path.exists()

    def read_bytes(self, start: int, end: int | None) -> bytes:
        """Bytes ``start`` to ``end`` (excluded; None: to the end) of the original log."""
        chunks = self.chunks_path.read_bytes()
        offsets = [OFFSET.unpack_from(chunks, i)[0] for i in range(0, len(chunks), OFFSET.size)]
        first = start // CHUNK
        if first >= len(offsets):
            return b""
        ends: list[int | None] = [*offsets[1:], None]
        data = bytearray()
        with open(self.path, "rb") as compressed:
            compressed.seek(offsets[first])
            index = first
            while index < len(offsets) and (end is None or index * CHUNK < end):
                member_end = ends[index]
                raw = compressed.read() if member_end is None else compressed.read(member_end - offsets[index])
                data += zlib.decompress(raw, wbits=31)
                index += 1
        skip = start - first * CHUNK
        return bytes(data[skip:] if end is None else data[skip : skip + end - start])

    def open(self):
        """The whole original log, as a binary file object."""
        return gzip.open(self.path, "rb")


def compress_log(directory: Path) -> int:
    """Compress ``output.yaml`` of ``directory``; returns bytes saved (0 when nothing to do).

    The plain log is removed only once the compressed copy and its chunk table
    are complete on disk; a failure (a full disk) leaves the plain log as it
    was and removes the partial files.
    """
    directory = Path(directory)
    plain = directory / "output.yaml"
    target = CompressedLog(directory)
    if not plain.exists() or target.exists():
        return 0
    partial = directory / (COMPRESSED_NAME + ".part")
    chunks_partial = directory / (CHUNKS_NAME + ".part")
    offsets = bytearray()
    try:
        for leftover in (partial, chunks_partial):  # of an attempt that died
            leftover.unlink(missing_ok=True)
        with open(plain, "rb") as source, file_modes.open_append(partial) as out:
            while block := source.read(CHUNK):
                offsets += OFFSET.pack(out.tell())
                out.write(gzip.compress(block, compresslevel=6, mtime=0))
            out.flush()
            os.fsync(out.fileno())
        with file_modes.open_append(chunks_partial) as chunks:
            chunks.write(bytes(offsets))
        os.replace(partial, target.path)
        os.replace(chunks_partial, target.chunks_path)
    except OSError:
        for leftover in (partial, chunks_partial, target.path):
            leftover.unlink(missing_ok=True)
        raise
    before = plain.stat().st_size
    plain.unlink()
    return before - target.path.stat().st_size - len(offsets)
