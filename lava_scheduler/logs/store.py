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


def job_output_dir(job) -> Path:
    when = job.submit_time
    # one Path from a joined string: each pathlib join cost as much as reading a log range
    return Path(os.path.join(settings.JOB_OUTPUT_DIR, f"{when:%Y}", f"{when:%m}", f"{when:%d}", str(job.pk)))


class LogStore:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.log_path = self.directory / "output.yaml"
        self.index_path = self.directory / "output.idx"

    @functools.cached_property
    def compressed(self) -> CompressedLog:
        return CompressedLog(self.directory)

    def line_count(self) -> int:
        try:
            return self.index_path.stat().st_size // OFFSET.size
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
        """Lines ``start`` to ``end`` (excluded) as stored, each ending with a newline."""
        count = self.line_count()
        end = count if end is None else min(end, count)
        start = max(0, start)
        if start >= end:
            return b""
        with open(self.index_path, "rb") as index:
            index.seek(start * OFFSET.size)
            (first,) = OFFSET.unpack(index.read(OFFSET.size))
            if end < count:
                index.seek(end * OFFSET.size)
                (last,) = OFFSET.unpack(index.read(OFFSET.size))
            else:
                last = None
        if not self.log_path.exists() and self.compressed.exists():
            return self.compressed.read_bytes(first, last)
        with open(self.log_path, "rb") as log:
            log.seek(first)
            return log.read() if last is None else log.read(last - first)

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
