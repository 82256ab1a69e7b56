"""Finding the job a page is about, through the one visibility rule."""

from django.http import Http404

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs


def find_visible_job(user, job_id: str, queryset=None) -> TestJob | None:
    """The job ``123`` or MultiNode sub-job ``123.1`` if ``user`` may see it, else None.

    A job the user may not see and a job that does not exist look the same,
    so that nobody learns which private jobs exist.
    """
    jobs = visible_jobs(user, queryset if queryset is not None else TestJob.objects.all())
    if "." in job_id:
        return jobs.filter(sub_id=job_id).first()
    return jobs.filter(pk=int(job_id)).first()


def visible_job_or_404(user, job_id: str, queryset=None) -> TestJob:
    job = find_visible_job(user, job_id, queryset)
    if job is None:
        raise Http404(f"no job {job_id} that you may see")
    return job
