"""Tail a job's ``logs.yaml`` and cut it into numbered batches for the master.

Lines are numbered from 0. Only complete lines (ending with a newline) are
sent: lava-run flushes per batch, so the file often ends in the middle of a
record. One batch is in flight at a time; the master's ``logs-ok`` count moves
the acknowledged position, and anything after it is sent again when needed.
The acknowledged position is kept as (line, byte offset) so a restarted
worker seeks straight to it instead of re-reading the whole log.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from lava_common.protocol import LOG_BATCH_LINES, LOG_BATCH_SECONDS

MAX_BATCH_BYTES = 4 << 20  # keeps one ZeroMQ message reasonable even with long lines
READ_CHUNK = 1 << 20
BUFFER_LINES = 2 * LOG_BATCH_LINES  # read ahead no further: memory stays bounded for chatty jobs


@dataclass
class Batch:
    start: int
    lines: list[str]
    ends: list[int]  # byte offset just after each line

    @property
    def stop(self) -> int:
        return self.start + len(self.lines)


@dataclass
class LogTail:
    path: Path
    acked_lines: int = 0
    acked_offset: int = 0
    in_flight: Batch | None = None
    _lines: list[str] = field(default_factory=list)  # complete lines read after the acked position
    _ends: list[int] = field(default_factory=list)
    _read_offset: int = -1
    _pending_since: float | None = None

    def __post_init__(self) -> None:
        self._read_offset = self.acked_offset

    # reading
    def _refill(self) -> None:
        if len(self._lines) >= BUFFER_LINES:
            return
        try:
            with open(self.path, "rb") as stream:
                if os.fstat(stream.fileno()).st_size <= self._read_offset:
                    return
                stream.seek(self._read_offset)
                data = stream.read(READ_CHUNK)
        except FileNotFoundError:
            return  # lava-run has not created it yet
        complete = data.rfind(b"\n")
        if complete < 0:
            if len(data) == READ_CHUNK:
                # a "line" longer than a chunk is not lava-run's (it caps lines far below): pass it on cut
                self._lines.append(data.decode("utf-8", "replace"))
                self._read_offset += len(data)
                self._ends.append(self._read_offset)
            return
        offset = self._read_offset
        for raw in data[: complete + 1].split(b"\n")[:-1]:
            offset += len(raw) + 1
            self._lines.append(raw.decode("utf-8", "replace"))
            self._ends.append(offset)
        self._read_offset = offset

    def available(self) -> int:
        """Lines read and not yet acknowledged (in flight or waiting)."""
        self._refill()
        return len(self._lines)

    # batching
    def next_batch(self, now: float | None = None, flush: bool = False) -> Batch | None:
        """The batch to send now, if any: full, old enough, or ``flush`` (lava-run ended)."""
        if self.in_flight is not None:
            return None
        self._refill()
        if not self._lines:
            self._pending_since = None
            return None
        now = time.monotonic() if now is None else now
        if self._pending_since is None:
            self._pending_since = now
        if not flush and len(self._lines) < LOG_BATCH_LINES and now - self._pending_since < LOG_BATCH_SECONDS:
            return None
        count, size = 0, 0
        for line in self._lines[:LOG_BATCH_LINES]:
            size += len(line) + 8
            if count and size > MAX_BATCH_BYTES:
                break
            count += 1
        self.in_flight = Batch(self.acked_lines, self._lines[:count], self._ends[:count])
        self._pending_since = None
        return self.in_flight

    def resend(self) -> None:
        """Forget the batch in flight (link lost): it goes again from the acknowledged line."""
        self.in_flight = None

    def acknowledge(self, count: int) -> bool:
        """Apply a ``logs-ok`` count; returns True when the acknowledged position moved."""
        self.in_flight = None
        if count == self.acked_lines:
            return False
        if self.acked_lines < count <= self.acked_lines + len(self._lines):
            done = count - self.acked_lines
            self.acked_offset = self._ends[done - 1]
            del self._lines[:done]
            del self._ends[:done]
            self.acked_lines = count
            return True
        # the master holds fewer lines than we thought, or more than we have read: find line `count`
        self._seek_line(count)
        return True

    def _seek_line(self, count: int) -> None:
        line, offset = (self.acked_lines, self.acked_offset) if count > self.acked_lines else (0, 0)
        try:
            with open(self.path, "rb") as stream:
                stream.seek(offset)
                while line < count:
                    raw = stream.readline()
                    if not raw.endswith(b"\n"):
                        break  # the master claims more than exists: trust our file
                    offset += len(raw)
                    line += 1
        except FileNotFoundError:
            line, offset = 0, 0
        self.acked_lines, self.acked_offset = line, offset
        self._lines.clear()
        self._ends.clear()
        self._read_offset = offset

    def total_lines(self) -> int:
        """Complete lines in the file now (used once lava-run has ended, for ``log_lines``)."""
        while True:
            before = len(self._lines)
            if before >= BUFFER_LINES:
                break
            self._refill()
            if len(self._lines) == before:
                return self.acked_lines + len(self._lines)
        # a large unread tail: count it without keeping it
        count = self.acked_lines + len(self._lines)
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self._read_offset)
                while chunk := stream.read(READ_CHUNK):
                    count += chunk.count(b"\n")
        except FileNotFoundError:
            pass
        return count

    def all_acknowledged(self) -> bool:
        return self.in_flight is None and self.acked_lines >= self.total_lines()
