"""The jobs lists' indexes carry the visibility rule's columns: ids are read from them alone."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0008_job_description_trigrams'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='testjob',
            name='job_submit_time',
        ),
        migrations.RemoveIndex(
            model_name='testjob',
            name='job_health_checks_by_time',
        ),
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(fields=['-submit_time'], include=('id', 'is_public', 'submitter'), name='job_submit_time'),
        ),
        migrations.AddIndex(
            model_name='testjob',
            index=models.Index(condition=models.Q(('health_check', True)), fields=['-submit_time'], include=('id', 'is_public', 'submitter'), name='job_health_checks_by_time'),
        ),
    ]
