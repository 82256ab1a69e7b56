"""Queries that PostgreSQL plans once per connection (PREPARE, then EXECUTE), for the API's hot paths.

psycopg2 sends every statement as text, so PostgreSQL parses and plans it
again at each call. The submission rights query (six subqueries) cost ten
times more to plan than to run (0.7 ms against 0.07 ms of the server's CPU
per ``jobs.submit``). A prepared statement lives as long as its database
session: each Django connection remembers which ones its session holds, and
a new session (a reconnection) starts with none. Other databases run the
text as is (SQLite keeps its own cache of compiled statements).

A connection pooler that shares sessions between clients in transaction
mode (pgbouncer's ``pool_mode = transaction``) cannot keep prepared
statements: such a lab sets ``PREPARED_STATEMENTS: false`` in its settings.
"""

import re
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

_NAMED = re.compile(r"%\((\w+)\)s")


def _session_statements() -> set[str]:
    """The names prepared in the session of this thread's connection (opened by the caller's cursor)."""
    # the thread's own wrapper: ``django.db.connection`` is a proxy that every thread shares
    wrapper = connections[DEFAULT_DB_ALIAS]
    held = wrapper.__dict__.get("_lava_prepared")
    # the raw connection is kept, and compared by identity: a reconnection is a new object
    if held is None or held[0] is not wrapper.connection:
        held = wrapper.__dict__["_lava_prepared"] = (wrapper.connection, set())
    return held[1]


def fetch_one(name: str, sql: str, params: dict[str, Any]) -> tuple | None:
    """The first row of ``sql`` (``%(name)s`` placeholders), prepared under ``name`` on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or not getattr(settings, "PREPARED_STATEMENTS", True):
            cursor.execute(sql, params)
            return cursor.fetchone()
        order = list(dict.fromkeys(_NAMED.findall(sql)))
        statements = _session_statements()
        if name not in statements:
            numbered = _NAMED.sub(lambda match: f"${order.index(match.group(1)) + 1}", sql)
            cursor.execute(f"PREPARE {name} AS {numbered}")
            statements.add(name)
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(order))})", [params[key] for key in order])
        return cursor.fetchone()
