"""Dynamic connections: MultiNode sub-jobs of a secondary-connection role (``connection: ssh``).

They have no device: they log in to the board of their group's ``host_role`` member, and the worker
of that board runs them (with a minimised copy of its device configuration, ``master.jobfiles``).
"""

from django.db.models import Q

from lava_common.yaml_loader import load_yaml
from lava_scheduler.jobs.models import TestJob

DYNAMIC = Q(requested_device_type__isnull=True) & ~Q(target_group="")


def _role(job: TestJob) -> str:
    data = load_yaml(job.definition) or {}
    return str(((data.get("protocols") or {}).get("lava-multinode") or {}).get("role", ""))


def host_job(job: TestJob) -> TestJob | None:
    """The member of the group whose board a dynamic connection logs in to (None: not found)."""
    host_role = (load_yaml(job.definition) or {}).get("host_role")
    siblings = TestJob.objects.select_related("actual_device").filter(
        target_group=job.target_group, actual_device__isnull=False).exclude(pk=job.pk)
    return next((sibling for sibling in siblings if _role(sibling) == host_role), None)


def job_worker(job: TestJob) -> str | None:
    """The worker that runs a job: its device's, or for a dynamic connection its host's device's."""
    if job.actual_device_id is not None:
        return job.actual_device.worker_host_id
    if not job.is_dynamic_connection:
        return None
    host = host_job(job)
    return host.actual_device.worker_host_id if host is not None else None


def dynamic_jobs_on(workers: list[str], states: tuple[int, ...]) -> list[TestJob]:
    """Dynamic connections in ``states`` that ``workers`` run (few at any time: the filter on state
    comes first, the worker is found per job)."""
    jobs = TestJob.objects.filter(DYNAMIC, state__in=states)
    return [job for job in jobs if job_worker(job) in workers]
