"""A job's row written by the prepared INSERT is the row the ORM writes; errors and reconnections alike."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.prepared import _db_values
from tests.server.test_submission import job_text

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")

# differ from one job to the next whoever writes the row
OWN_VALUES = {"id", "token", "submit_time"}


def prepared_inserts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'lava_insert_%%'")
        return [row[0] for row in cursor.fetchall()]


def prepared_insert_runs() -> int:
    """How many times this session ran its prepared INSERTs (an earlier test may have prepared them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
                       " WHERE name LIKE 'lava_insert_%%'")
        return cursor.fetchone()[0]


def row(job: TestJob) -> dict:
    fields = TestJob._meta.concrete_fields
    stored = TestJob.objects.values(*(field.attname for field in fields)).get(pk=job.pk)
    return {key: value for key, value in stored.items() if key not in OWN_VALUES}


def test_the_prepared_row_is_the_orms_and_save_still_signals(user, device, settings):
    saved = []
    post_save.connect(lambda sender, instance, created, **_: saved.append((instance.pk, created)),
                      sender=TestJob, weak=False, dispatch_uid="test-prepared-insert")
    try:
        settings.PREPARED_STATEMENTS = False
        runs = prepared_insert_runs()
        (by_orm,) = submit_job(job_text(), user)
        assert prepared_insert_runs() == runs
        settings.PREPARED_STATEMENTS = True
        (prepared,) = submit_job(job_text(), user)
        assert prepared_insert_runs() == runs + 1 and len(prepared_inserts()) == 1
    finally:
        post_save.disconnect(sender=TestJob, dispatch_uid="test-prepared-insert")
    assert row(prepared) == row(by_orm)
    assert prepared.pk > by_orm.pk and not prepared._state.adding
    assert TestJob.objects.get(pk=prepared.pk).submit_time == prepared.submit_time
    assert saved == [(by_orm.pk, True), (prepared.pk, True)]


@pytest.mark.django_db(transaction=True)  # the database session is closed mid-test
def test_a_new_database_session_prepares_it_again(user, device):
    submit_job(job_text(), user)
    connection.close()
    (job,) = submit_job(job_text(job_name="after a reconnection"), user)
    assert TestJob.objects.get(pk=job.pk).description == "after a reconnection"
    assert len(prepared_inserts()) == 1


def test_a_constraint_breach_is_djangos_integrity_error_and_stores_nothing(user, device):
    (first,) = submit_job(job_text(), user)
    TestJob.objects.filter(pk=first.pk).update(sub_id="7.0")
    duplicate = TestJob(submitter=user, definition="{}", requested_device_type_id="qemu", sub_id="7.0")
    before = TestJob.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert TestJob.objects.count() == before and len(prepared_inserts()) == 1


@pytest.mark.parametrize("values", [
    {},  # the submission's own types: str, int, bool, None
    {"priority": "70", "queue_timeout": 3.0, "health_check": 1, "description": None, "requested_device_type_id": ""},
    {"is_public": None, "sub_id": 12, "metadata": {"a": ["b"]}, "submit_time": None},
])
def test_values_written_as_they_are_are_what_the_fields_would_write(user, device, values):
    job = TestJob(**{"submitter": user, "requested_device_type_id": "qemu", "requested_device_id": device.hostname,
                     "definition": "d", "original_definition": "o", "priority": 50, "is_public": True, **values})
    fields = [field for field in TestJob._meta.concrete_fields if field.attname != "id"]
    fast = _db_values(job, fields, connection)  # submit_time's pre_save sets it: the general path reads it back
    general = [field.get_db_prep_save(field.pre_save(job, False), connection) for field in fields]
    def comparable(values):  # a JSON column's value is an adapter object: its content is compared
        return [(type(value), repr(getattr(value, "adapted", value))) for value in values]

    assert comparable(fast) == comparable(general)
