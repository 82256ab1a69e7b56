"""A job's link to the device it runs on is no longer a foreign-key constraint.

The scheduler sets the link of each job it reserves, a thousand in a busy pass, and PostgreSQL
checked each one by a lookup of its own when the transaction committed (6 ms of the database's
CPU in a pass of 1,000 jobs, the largest part of its commit). The link stays sound without it:
it is only ever set to a device whose row the writer holds locked (the scheduler's reservation,
``TestJob.assign``), so the device exists when the job's row commits. What the constraint also
did, refusing the deletion of a device a job still names, is done on PostgreSQL by a trigger
that unlinks the device's jobs as the device's row goes: it runs once that row is locked, so a
reservation committed meanwhile is unlinked too, never left naming a device that is gone
(Django's ``on_delete=SET_NULL`` unlinks the jobs it found beforehand, as it always did). SQLite
runs one writer at a time: Django's unlinking is enough there.
"""

import django.db.models.deletion
from django.db import migrations, models

CREATE_TRIGGER = """
CREATE FUNCTION jobs_unlink_deleted_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs_testjob SET actual_device_id = NULL WHERE actual_device_id = OLD.hostname;
    RETURN OLD;
END
$$;
CREATE TRIGGER jobs_unlink_deleted_device BEFORE DELETE ON lab_device
    FOR EACH ROW EXECUTE FUNCTION jobs_unlink_deleted_device();
"""
DROP_TRIGGER = """
DROP TRIGGER jobs_unlink_deleted_device ON lab_device;
DROP FUNCTION jobs_unlink_deleted_device();
"""


def create_trigger(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TRIGGER)


def drop_trigger(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0010_scheduler_pass_indexes'),
        ('lab', '0003_history_links_unconstrained'),
    ]

    operations = [
        migrations.AlterField(
            model_name='testjob',
            name='actual_device',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='jobs', to='lab.device'),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
