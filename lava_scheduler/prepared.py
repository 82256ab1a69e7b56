"""Queries that PostgreSQL plans once per connection (PREPARE, then EXECUTE), for the API's hot paths.

psycopg2 sends every statement as text, so PostgreSQL parses and plans it
again at each call. The submission rights query (six subqueries) cost ten
times more to plan than to run (0.7 ms against 0.07 ms of the server's CPU
per ``jobs.submit``); the job's 26-column INSERT cost the web process more
to compile through the ORM than to send (``insert_returning_pk``, used by
``TestJob._do_insert``). A prepared statement lives as long as its database
session: each Django connection remembers which ones its session holds, and
a new session (a reconnection) starts with none. Other databases run the
text as is (SQLite keeps its own cache of compiled statements).

A connection pooler that shares sessions between clients in transaction
mode (pgbouncer's ``pool_mode = transaction``) cannot keep prepared
statements: such a lab sets ``PREPARED_STATEMENTS: false`` in its settings.
"""

import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    PositiveIntegerField,
    TextField,
)

_NAMED = re.compile(r"%\((\w+)\)s")


def _session_statements(alias: str) -> set[str]:
    """The names prepared in the session of this thread's connection (opened by the caller's cursor)."""
    # the thread's own wrapper: ``django.db.connection`` is a proxy that every thread shares
    wrapper = connections[alias]
    held = wrapper.__dict__.get("_lava_prepared")
    # the raw connection is kept, and compared by identity: a reconnection is a new object
    if held is None or held[0] is not wrapper.connection:
        held = wrapper.__dict__["_lava_prepared"] = (wrapper.connection, set())
    return held[1]


def _preparing(alias: str) -> bool:
    return connections[alias].vendor == "postgresql" and getattr(settings, "PREPARED_STATEMENTS", True)


def _execute_prepared(cursor, alias: str, name: str, numbered_sql: Callable[[], str], values: list[Any]) -> None:
    """Run the statement ``numbered_sql()`` writes (``$1``... placeholders) as the prepared statement ``name``."""
    statements = _session_statements(alias)
    if name not in statements:
        cursor.execute(f"PREPARE {name} AS {numbered_sql()}")
        statements.add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(values))})", values)


def fetch_one(name: str, sql: str, params: dict[str, Any]) -> tuple | None:
    """The first row of ``sql`` (``%(name)s`` placeholders), prepared under ``name`` on PostgreSQL."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        if not _preparing(DEFAULT_DB_ALIAS):
            cursor.execute(sql, params)
            return cursor.fetchone()
        order = list(dict.fromkeys(_NAMED.findall(sql)))
        _execute_prepared(cursor, DEFAULT_DB_ALIAS, name,
                          lambda: _NAMED.sub(lambda match: f"${order.index(match.group(1)) + 1}", sql),
                          [params[key] for key in order])
        return cursor.fetchone()


def _insert_sql(connection, table: str, columns: tuple[str, ...], pk_column: str) -> str:
    quote = connection.ops.quote_name
    return (f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) "
            f"VALUES ({', '.join(f'${n}' for n in range(1, len(columns) + 1))}) RETURNING {quote(pk_column)}")


@functools.cache
def _insert_name(table: str, columns: tuple[str, ...]) -> str:
    # named after what it writes: every thread and process gives the same name to the same statement
    return "lava_insert_" + hashlib.sha1(repr((table, columns)).encode()).hexdigest()[:16]


# field classes whose get_db_prep_save(pre_save()) is the attribute itself when it has exactly
# one of these types: the other values go through the field's own methods
_AS_IS: dict[type, tuple[type, ...]] = {
    CharField: (str, type(None)), TextField: (str, type(None)), BooleanField: (bool,),
    IntegerField: (int, type(None)), PositiveIntegerField: (int, type(None)), BigIntegerField: (int, type(None)),
    AutoField: (int, type(None)), BigAutoField: (int, type(None)),  # the targets of foreign keys
}


@functools.cache
def _as_is_types(fields: tuple[Field, ...]) -> tuple[tuple[type, ...], ...]:
    """For each field, the value types written as they are (none: always the field's methods)."""
    def types(field: Field) -> tuple[type, ...]:
        if type(field) is ForeignKey:
            # None is no key; "" may be one only through the field's rules (empty strings as nulls)
            target = _AS_IS.get(type(field.target_field), ())
            return tuple(dict.fromkeys(kind for kind in (*target, type(None)) if kind is not str))
        return _AS_IS.get(type(field), ())
    return tuple(types(field) for field in fields)


def _db_values(instance: Model, fields: list[Field], connection) -> list[Any]:
    """What the ORM's compiler does with each value: pre_save (auto_now...), then the database's form."""
    values = []
    for field, as_is in zip(fields, _as_is_types(tuple(fields)), strict=True):
        value = getattr(instance, field.attname)
        if type(value) not in as_is:
            value = field.get_db_prep_save(field.pre_save(instance, True), connection)
        values.append(value)
    return values


def insert_returning_pk(instance: Model, using: str, fields: list[Field], returning_fields: list[Field]) -> list[tuple] | None:
    """What ``Model._do_insert`` returns (the new row's primary key), through a prepared INSERT; None
    where only the ORM's compiler can write the row (not PostgreSQL, expressions as values, other
    returned columns than an automatic primary key)."""
    pk = instance._meta.pk
    if not _preparing(using) or list(returning_fields) != [pk] or not isinstance(pk, AutoField):
        return None
    connection = connections[using]
    values = _db_values(instance, fields, connection)
    if any(hasattr(value, "as_sql") for value in values):
        return None
    table, columns = instance._meta.db_table, tuple(field.column for field in fields)
    with connection.cursor() as cursor:
        _execute_prepared(cursor, using, _insert_name(table, columns),
                          lambda: _insert_sql(connection, table, columns, pk.column), values)
        return [cursor.fetchone()]
