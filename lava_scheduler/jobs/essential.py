"""MultiNode essential roles: when one ends badly or is canceled, the rest of its group is canceled.

Without this the other members would run on until their MultiNode timeouts, waiting for a
board that is gone (the reference does the same).
"""

from __future__ import annotations

from django.db.models import Model

from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_scheduler.jobs.states import JobState

# a TestJob: models.py calls in here, so naming the class would make an import cycle
Job = Model


def essential_role(job: Job) -> str | None:
    """The job's role when that role is ``essential: true``, else None."""
    if not job.is_multinode:
        return None
    try:
        definition = load_yaml(job.definition)
    except YAMLLoadError:
        return None
    protocol = ((definition or {}).get("protocols") or {}).get("lava-multinode") or {}
    return str(protocol.get("role")) if protocol.get("essential") is True else None


def cancel_group_of_essential(job: Job, what: str) -> None:
    """Cancel the unfinished members of ``job``'s group when ``job`` is essential; ``what`` happened to it."""
    role = essential_role(job)
    if role is None:
        return
    siblings = (
        type(job).objects.select_for_update()
        .filter(target_group=job.target_group)
        .exclude(pk=job.pk)
        .exclude(state__in=(JobState.CANCELING, JobState.FINISHED))
    )
    for sibling in siblings:
        sibling.cancel(f"the essential role {role} of its MultiNode group (job {job.display_id}) {what}")
