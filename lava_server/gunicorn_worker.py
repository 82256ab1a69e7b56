"""gunicorn's threaded worker, keeping a busy kept-alive connection on its thread for a moment.

gunicorn's ``gthread`` worker hands every request of a kept-alive connection
from its main thread (which polls the idle connections) to a pool thread and
back: a wake-up of each thread, a queue, a pipe and two poller changes per
request, about a fifth of the server's CPU for a ``jobs.validate`` and two
thread switches on the client's path. lavacli and scripts send their calls
one after the other on one connection, so the next request usually comes
within a millisecond of the answer. This worker lets the thread that sent an
answer wait for the connection's next request, up to ``LINGER`` seconds, and
serve it at once; it gives the connection back to the main thread as gthread
does when that time is up, when the worker stops, or as soon as another
connection waits for a thread (checked every ``CHECK_EVERY`` seconds), so no
client waits on another's pause. Everything else is gthread's own code:
parsing, keep-alive limits, timeouts, graceful stops.
"""

from __future__ import annotations

import collections
import select
import time

from gunicorn.workers.gthread import ThreadWorker

LINGER = 0.05
CHECK_EVERY = 0.002


class LingeringThreadWorker(ThreadWorker):
    """``--worker-class lava_server.gunicorn_worker.LingeringThreadWorker``: gthread, with the linger above."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # one item per connection handed to the pool and not yet taken by a thread (deque: thread-safe)
        self._waiting = collections.deque()

    def enqueue_req(self, conn) -> None:
        self._waiting.append(None)
        super().enqueue_req(conn)

    def handle(self, conn):
        self._waiting.pop()
        result = super().handle(conn)
        while result is True and self._next_request_soon(conn):
            result = super().handle(conn)
        return result

    def _next_request_soon(self, conn) -> bool:
        """Whether the connection's next request came while no other connection waited for a thread."""
        if conn.parser.unreader.buf.getvalue():  # read already with the previous request
            return True
        poller = select.poll()
        poller.register(conn.sock, select.POLLIN)
        deadline = time.monotonic() + LINGER
        while self.alive and not self._waiting and time.monotonic() < deadline:
            if poller.poll(CHECK_EVERY * 1000):
                return True
        return False
