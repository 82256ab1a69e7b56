"""The queued jobs that have a queue timeout, indexed alone.

Every scheduling pass looks for queued jobs past their queue timeout; without an index it read the
whole queue (2 ms of the database's CPU with 10,000 queued jobs) for the few that carry one. The
index holds only those: the scheduler's own UPDATEs, which take jobs out of the queue, write no
entry in it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0009_job_lists_covering_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(condition=models.Q(('queue_timeout__isnull', False), ('state', 0)), fields=['submit_time'], name='job_queue_timeout'),
        ),
    ]
