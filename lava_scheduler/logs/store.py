"""A job's log as stored on the server.

``output.yaml`` holds the records exactly as received, one per line;
``output.idx`` holds, for every line, the byte offset where it starts, as an
8-byte unsigned integer (struct ``=Q``, as the reference), so any range is
read with two seeks whatever the size of the log. An old log may be
compressed (``compression``); it reads the same.
"""

import functools
import os
import re
import struct
from pathlib import Path

from django.conf import settings

from lava_common import file_modes
from lava_scheduler.logs.compression import CompressedLog

OFFSET = struct.Struct("=Q")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _pread(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes at ``offset`` (fewer at the end of the file): one call unless the kernel reads less."""
    chunks = []
    while size > 0 and (data := os.pread(fd, size, offset)):
        chunks.append(data)
        size -= len(data)
        offset += len(data)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def job_output_dir(job) -> Path:
    when = job.submit_time
    # one Path from a joined string: each pathlib join cost as much as reading a log range
    return Path(os.path.join(settings.JOB_OUTPUT_DIR, f"{when:%Y}", f"{when:%m}", f"{when:%d}", str(job.pk)))


class LogStore:
    def __init__(self, directory: Path):
        # strings for the reads a log-following client repeats: each pathlib join cost a few µs
        self._log = os.path.join(directory, "output.yaml")
        self._index = os.path.join(directory, "output.idx")
        self.directory = directory if isinstance(directory, Path) else Path(directory)

    @property
    def log_path(self) -> Path:
        return Path(self._log)

    @property
    def index_path(self) -> Path:
        return Path(self._index)

    @functools.cached_property
    def compressed(self) -> CompressedLog:
        return CompressedLog(self.directory)

    def line_count(self) -> int:
        try:
            return os.stat(self._index).st_size // OFFSET.size
        except FileNotFoundError:
            return 0

    def append(self, lines: list[str]) -> None:
        """Append whole lines (without newlines)."""
        if not lines:
            return
        file_modes.make_dirs(self.directory)
        # a lone surrogate (a worker's JSON can carry "\ud800") is stored as U+FFFD, as lava-run writes it
        encoded = [(_SURROGATE.sub("\ufffd", line.replace("\n", " ")) + "\n").encode("utf-8") for line in lines]
        with file_modes.open_append(self.log_path) as log, file_modes.open_append(self.index_path) as index:
            offset = log.tell()
            offsets = bytearray()
            for line in encoded:
                offsets += OFFSET.pack(offset)
                offset += len(line)
            log.write(b"".join(encoded))
            log.flush()  # a full disk fails here, before the index names lines that are not there
            index.write(offsets)

    def truncate(self, count: int) -> None:
        """Cut the log back to its first ``count`` lines (what the database says was stored)."""
        if self.line_count() <= count:
            return
        with open(self.index_path, "rb") as index:
            index.seek(count * OFFSET.size)
            (end,) = OFFSET.unpack(index.read(OFFSET.size))
        os.truncate(self.log_path, end)
        os.truncate(self.index_path, count * OFFSET.size)

    def read(self, start: int = 0, end: int | None = None) -> list[str]:
        """Lines ``start`` to ``end`` (excluded), without their newlines."""
        data = self.read_bytes(start, end)
        return data.decode("utf-8", errors="replace").split("\n")[:-1] if data else []

    def read_bytes(self, start: int = 0, end: int | None = None) -> bytes:
        """Lines ``start`` to ``end`` (excluded) as stored, each ending with a newline.

        Only lines the index names: an append writes the log before the index, and the bytes of
        lines it has not indexed yet are left for the next read.
        """
        try:
            index = os.open(self._index, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return b""
        try:
            count = os.fstat(index).st_size // OFFSET.size
            end = count if end is None else min(end, count)
            start = max(0, start)
            if start >= end:
                return b""
            # the offsets of the first line and of the one after the last (or the last, at the end)
            last_line = end if end < count else end - 1
            if last_line - start < 8192:  # one read when they are close (a 1,000-line range: 8 kB)
                offsets = _pread(index, (last_line - start + 1) * OFFSET.size, start * OFFSET.size)
                (first,), (last,) = OFFSET.unpack_from(offsets), OFFSET.unpack_from(offsets, len(offsets) - OFFSET.size)
            else:
                (first,) = OFFSET.unpack(_pread(index, OFFSET.size, start * OFFSET.size))
                (last,) = OFFSET.unpack(_pread(index, OFFSET.size, last_line * OFFSET.size))
        finally:
            os.close(index)
        if end < count:
            return self._read_log(first, last)
        data = self._read_log(first, None)
        # the last indexed line ends at the first newline from its start
        cut = data.find(b"\n", last - first)
        return data if cut == -1 or cut == len(data) - 1 else data[: cut + 1]

    def _read_log(self, first: int, last: int | None) -> bytes:
        """Bytes ``first`` to ``last`` (None: to the end) of the log, plain or compressed."""
        try:
            log = os.open(self._log, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            if not self.compressed.exists():
                raise
            return self.compressed.read_bytes(first, last)
        try:
            size = (os.fstat(log).st_size if last is None else last) - first
            return _pread(log, size, first) if size > 0 else b""
        finally:
            os.close(log)

    def size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def open_raw(self):
        """The whole log as a binary file object (decompressed on the fly), or None without a log."""
        if self.log_path.exists():
            return open(self.log_path, "rb")  # noqa: SIM115 - the caller closes it
        if self.compressed.exists():
            return self.compressed.open()
        return None
