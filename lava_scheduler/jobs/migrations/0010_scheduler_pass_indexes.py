"""Two job indexes the scheduling pass paid for needlessly.

- ``job_queue_timeout``: the queued jobs that have a queue timeout, alone. Every pass looks for
  queued jobs past their timeout; without it the pass read the whole queue (2 ms of the database's
  CPU with 10,000 queued jobs) for the few that carry one. Taking a job out of the queue writes no
  entry in it.
- ``job_type_health_submit`` holds the jobs that have a health, the ended ones: the pass's UPDATE
  (and the master's, when a job starts) wrote an entry per job in it, for a job list filtered on a
  health (``health = 1`` implies the index's condition; a filter on Unknown reads
  ``job_type_submit``, whose newest jobs are the unfinished ones).
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
        migrations.RemoveIndex(
            model_name='testjob',
            name='job_type_health_submit',
        ),
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(condition=models.Q(('health', 0), _negated=True), fields=['requested_device_type', 'health', '-submit_time'], name='job_type_health_submit'),
        ),
    ]
