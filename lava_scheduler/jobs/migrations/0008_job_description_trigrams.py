"""A trigram index of the finished jobs' descriptions, for the jobs list's text search (``?q=``).

PostgreSQL only (``pg_trgm``, shipped with the server; a trusted extension, which the owner of
the database may create): the search is ``UPPER(description) LIKE UPPER('%text%')``, which no
B-tree serves. The index holds finished jobs only (``lava_server/web/job_filters.py`` looks the
others up by state): no write to a job under way (the scheduler's, the master's) ever updates it.
Without the extension the migration says so and goes on: the search then reads the jobs in order.
On SQLite (the lab in a box) it does nothing.
"""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger("lava-migrations")

INDEX = "job_description_trgm"
FINISHED = 5  # JobState.FINISHED


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        log.warning("no trigram index for the jobs' text search (pg_trgm: %s); the search reads the jobs in order", exc)
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON jobs_testjob "
        f"USING gin (UPPER(description::text) gin_trgm_ops) WHERE state = {FINISHED}"
    )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0007_fewer_job_indexes'),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
