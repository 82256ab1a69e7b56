"""A device history row's creation time is no longer indexed on its own.

The scheduler writes a history row for each device it reserves, a thousand in a busy pass, and
each row wrote an entry in this index too (1.2 ms of PostgreSQL's CPU a pass). Nothing needed
it: the device page reads a device's rows by ``transition_device_time`` (device, time), and the
admin's list of all rows now goes newest first by id, the order they were written in.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('lab', '0003_history_links_unconstrained'),
    ]

    operations = [
        migrations.AlterField(
            model_name='devicetransition',
            name='created',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
    ]
