"""A PostgreSQL database of its own for a lab under test, on the server ``LAVA_DATABASE_URL`` names."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


@contextlib.contextmanager
def scratch_database(url: str | None) -> Iterator[str | None]:
    """Yields the URL of a new, empty database beside ``url``'s (dropped afterwards); None without ``url``."""
    if not url:
        yield None
        return
    import psycopg2

    parts = urlsplit(url)
    name = f"lab_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
