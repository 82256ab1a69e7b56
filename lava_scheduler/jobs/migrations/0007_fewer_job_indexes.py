"""Fewer indexes on the job table: each one costs every write that moves a job.

Dropped (with, on PostgreSQL, their ``varchar_pattern_ops`` twins ``*_like``, which serve only
``LIKE 'prefix%'`` and no query of the lab makes one on these columns):
- ``requested_device_type_id`` and ``actual_device_id``: ``job_type_submit`` and
  ``job_device_submit`` lead with the same column;
- ``requested_device_id``, ``requested_worker_id``, ``target_group``: replaced by partial indexes
  on the jobs that have one (health checks, the rare pinned jobs, MultiNode sub-jobs), which
  serve the same lookups (``= value``, the ``ON DELETE SET NULL`` of the foreign keys);
- ``job_queue_per_type``: replaced by ``job_queue``, in the scheduler's whole order (with
  ``sub_id``), so that the head of each type's queue is read without a sort.

The fields' ``db_index`` changes only in the migration state: Django's ``AlterField`` would
drop every index on the bare column, the unique ``one_unfinished_job_per_device`` too, and
re-create (and re-validate) each foreign key.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DEFAULT_INDEXES = {  # column -> the name Django gave its db_index=True index in 0001
    "target_group": "jobs_testjob_target_group_bd63bd63",
    "requested_device_type_id": "jobs_testjob_requested_device_type_id_abcaf86d",
    "requested_device_id": "jobs_testjob_requested_device_id_e3c69fbe",
    "requested_worker_id": "jobs_testjob_requested_worker_id_6578f547",
    "actual_device_id": "jobs_testjob_actual_device_id_cc514e6d",
}


def drop_default_indexes(apps, schema_editor) -> None:
    for name in DEFAULT_INDEXES.values():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}_like"')


def restore_default_indexes(apps, schema_editor) -> None:
    for column, name in DEFAULT_INDEXES.items():
        schema_editor.execute(f'CREATE INDEX "{name}" ON "jobs_testjob" ("{column}")')
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'CREATE INDEX "{name}_like" ON "jobs_testjob" ("{column}" varchar_pattern_ops)')


def foreign_key(to: str, related_name: str) -> models.ForeignKey:
    return models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                             related_name=related_name, to=to)


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('jobs', '0006_job_health_checks_by_time'),
        ('lab', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name='testjob', name='actual_device', field=foreign_key('lab.device', 'jobs')),
                migrations.AlterField(model_name='testjob', name='requested_device', field=foreign_key('lab.device', '+')),
                migrations.AlterField(model_name='testjob', name='requested_device_type',
                                      field=foreign_key('lab.devicetype', '+')),
                migrations.AlterField(model_name='testjob', name='requested_worker', field=foreign_key('lab.worker', '+')),
                migrations.AlterField(model_name='testjob', name='target_group',
                                      field=models.CharField(blank=True, default='', max_length=64)),
            ],
            database_operations=[migrations.RunPython(drop_default_indexes, restore_default_indexes)],
        ),
        migrations.RemoveIndex(
            model_name='testjob',
            name='job_queue_per_type',
        ),
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(condition=models.Q(('requested_device__isnull', False)), fields=['requested_device'], name='job_requested_device'),
        ),
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(condition=models.Q(('requested_worker__isnull', False)), fields=['requested_worker'], name='job_requested_worker'),
        ),
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(condition=models.Q(('target_group', ''), _negated=True), fields=['target_group'], name='job_target_group'),
        ),
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(condition=models.Q(('state', 0)), fields=['requested_device_type', '-priority', 'submit_time', 'sub_id', 'id'], name='job_queue'),
        ),
    ]
