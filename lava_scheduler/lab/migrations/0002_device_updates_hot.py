"""Cheaper device state changes and history rows (the scheduler writes a thousand of each a pass).

- ``device_type_state_health`` and ``device_worker_state`` are dropped: with no index on state or
  health, a change of either is a HOT update on PostgreSQL (no index touched), when the new row
  version fits in the row's page: the device table keeps half of each page free for that
  (fillfactor 50; a device row is small and a lab has thousands at most). The device type's and
  the worker's own foreign-key indexes remain.
- A transition's ``device_id`` index (and its ``*_like`` twin on PostgreSQL) is dropped:
  ``transition_device_time`` leads with the same column. Its ``user_id`` index becomes partial:
  most changes are automatic, without a user.

The fields' ``db_index`` changes only in the migration state: Django's ``AlterField`` would also
drop and re-create (re-validate) each foreign key.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DEFAULT_INDEXES = {  # column -> the name Django gave its db_index=True index in 0001
    "device_id": "lab_devicetransition_device_id_99d5de62",
    "user_id": "lab_devicetransition_user_id_dab085ce",
}
DEVICE_FILLFACTOR = 50


def drop_default_indexes(apps, schema_editor) -> None:
    for name in DEFAULT_INDEXES.values():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}_like"')


def restore_default_indexes(apps, schema_editor) -> None:
    for column, name in DEFAULT_INDEXES.items():
        schema_editor.execute(f'CREATE INDEX "{name}" ON "lab_devicetransition" ("{column}")')
    if schema_editor.connection.vendor == "postgresql":
        name = DEFAULT_INDEXES["device_id"]
        schema_editor.execute(f'CREATE INDEX "{name}_like" ON "lab_devicetransition" ("device_id" varchar_pattern_ops)')


def leave_room_in_device_pages(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE lab_device SET (fillfactor = {DEVICE_FILLFACTOR})")


def fill_device_pages(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE lab_device RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ('lab', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='device',
            name='device_type_state_health',
        ),
        migrations.RemoveIndex(
            model_name='device',
            name='device_worker_state',
        ),
        migrations.RunPython(leave_room_in_device_pages, fill_device_pages),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='devicetransition',
                    name='device',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='transitions', to='lab.device'),
                ),
                migrations.AlterField(
                    model_name='devicetransition',
                    name='user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[migrations.RunPython(drop_default_indexes, restore_default_indexes)],
        ),
        migrations.AddIndex(
            model_name='devicetransition',
            index=models.Index(condition=models.Q(('user__isnull', False)), fields=['user'], name='transition_user'),
        ),
    ]
