"""The md5, sha256 and sha512 of a download, each digested in a thread of its own as the chunks arrive.

hashlib lets other threads run while it digests a chunk: the three sums of an image cost
about the time of the slowest one, not of all three, and overlap the download and its writes.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from types import TracebackType

NAMES = ("md5sum", "sha256sum", "sha512sum")
BACKLOG = 8  # chunks a digest may lag behind the download: bounds the memory a large image holds


class Checksums:
    """``with Checksums() as sums: sums.feed(chunk)...``; then ``sums.hexdigests``."""

    def __init__(self) -> None:
        self._digests = {name: hashlib.new(name.removesuffix("sum")) for name in NAMES}
        self._queues: dict[str, queue.Queue[bytes | None]] = {name: queue.Queue(BACKLOG) for name in NAMES}
        self._threads = [threading.Thread(target=_digest, args=(self._digests[name], self._queues[name]),
                                          name=name, daemon=True) for name in NAMES]
        self.hexdigests: dict[str, str] = {}

    def __enter__(self) -> Checksums:
        for thread in self._threads:
            thread.start()
        return self

    def feed(self, chunk: bytes) -> None:
        for chunks in self._queues.values():
            chunks.put(chunk)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        # also after a failed download: no thread is left waiting for chunks
        for chunks in self._queues.values():
            chunks.put(None)
        for thread in self._threads:
            thread.join()
        if kind is None:
            self.hexdigests = {name: digest.hexdigest() for name, digest in self._digests.items()}


def _digest(digest, chunks: queue.Queue[bytes | None]) -> None:
    while (chunk := chunks.get()) is not None:
        digest.update(chunk)
