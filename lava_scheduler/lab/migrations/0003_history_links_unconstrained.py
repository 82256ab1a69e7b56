"""A device history row's links to its device and job are no longer foreign-key constraints.

The scheduler writes a history row for each device it reserves, a thousand in a busy pass, and
PostgreSQL checked both links of each row one lookup at a time when the transaction committed
(2,000 lookups, the costliest part of the pass's commit). The rows stay as sound without them:
the scheduler and ``Device.save`` write a row in the transaction that holds the device's row
locked (and the job's, which the scheduler locks too), so both exist when it commits; devices and
jobs are deleted through Django, whose ``on_delete`` (CASCADE for the device, SET_NULL for the job)
was already what kept the rows in step (Django's foreign keys have no ON DELETE in the database).
The indexes on both columns stay: the device page and those deletions read by them.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0009_job_lists_covering_indexes'),
        ('lab', '0002_device_updates_hot'),
    ]

    operations = [
        migrations.AlterField(
            model_name='devicetransition',
            name='device',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='transitions', to='lab.device'),
        ),
        migrations.AlterField(
            model_name='devicetransition',
            name='job',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.testjob'),
        ),
    ]
