"""Django's PostgreSQL backend, with a health check that costs no round trip when nothing happened.

Web workers keep their connection between requests (``CONN_MAX_AGE``) and
check it at each request's first query (``CONN_HEALTH_CHECKS``): Django's
check is a ``SELECT 1``, a round trip and a statement for PostgreSQL before
every API call. A connection that PostgreSQL closed (a restart, an
administrator's ``pg_terminate_backend``, an idle timeout) always leaves
something to read on its socket: the server's error message, or the end of
the stream. So an idle session whose socket has nothing to read is usable,
and only a socket with something waiting is asked with Django's own check.
"""

import select

from django.db.backends.postgresql import base

# libpq's PQTRANS_IDLE: no transaction open, nothing in flight (psycopg2 and psycopg alike)
_TRANSACTION_IDLE = 0


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            quiet = connection.info.transaction_status == _TRANSACTION_IDLE and not _readable(connection.fileno())
        except (OSError, ValueError, base.Database.Error):
            quiet = False
        return quiet or super().is_usable()


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
