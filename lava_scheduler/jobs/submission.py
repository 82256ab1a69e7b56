"""Turning a submitted job definition into TestJob rows, or refusing it with reasons.

Every check runs before anything is stored: a refused submission leaves no row.
"""

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from lava_common.schemas import JobSchemaError, ValidJob, check_job_text
from lava_common.timeouts import timeout_seconds
from lava_common.yaml_loader import dump_yaml
from lava_scheduler.events import wake_scheduler
from lava_scheduler.jobs.lab_snapshot import LabSnapshot, lab_snapshot
from lava_scheduler.jobs.masking import readable_definition
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.multinode import host_role_errors, split_multinode
from lava_scheduler.jobs.states import parse_priority
from lava_scheduler.permissions.rules import submit_refusal


class SubmissionError(ValueError):
    """The job cannot be accepted; ``errors`` lists every reason with its path."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class Placement:
    """Where one job may run, resolved against the lab."""

    device_type: str
    device: str | None
    worker: str | None
    tag_ids: list[int]
    usable_devices: int


def check_definition(text: str | bytes, strict: bool = False) -> ValidJob:
    """Parse and schema-check a definition: it and its warnings; SubmissionError with paths when it is wrong."""
    try:
        return check_job_text(text, strict=strict, extra_context_variables=settings.EXTRA_CONTEXT_VARIABLES)
    except JobSchemaError as exc:
        raise SubmissionError([str(issue) for issue in exc.errors] or [str(exc)]) from None


def validate_definition(text: str | bytes, strict: bool = False) -> dict[str, Any]:
    """Parse and schema-check a definition; SubmissionError with paths when it is wrong."""
    return check_definition(text, strict).definition


def resolve_placement(
    prefix: str, device_type_name: Any, tag_names: list[str], device_name: Any, worker_name: Any
) -> Placement:
    """Check that a job with these requirements can ever run in this lab."""
    try:
        return _placement(lab_snapshot(), prefix, device_type_name, tag_names, device_name, worker_name)
    except SubmissionError:
        # refuse only on fresh facts: the snapshot may predate the device that makes this job possible
        return _placement(lab_snapshot(fresh=True), prefix, device_type_name, tag_names, device_name, worker_name)


def _placement(
    lab: LabSnapshot, prefix: str, device_type_name: Any, tag_names: list[str], device_name: Any, worker_name: Any
) -> Placement:
    errors: list[str] = []
    device_type = lab.resolve_type(str(device_type_name))
    if device_type is None:
        raise SubmissionError([f"{prefix}device_type: no device type or alias '{device_type_name}' in this lab"])
    missing_tags = sorted(set(tag_names) - set(lab.tags))
    if missing_tags:
        errors.append(f"{prefix}tags: unknown tag(s) {', '.join(missing_tags)}")
    candidates = [d for d in lab.devices.values() if d.device_type == device_type and not d.retired]
    if device_name is not None:
        device = lab.devices.get(str(device_name))
        if device is None:
            errors.append(f"{prefix}device: no device '{device_name}' in this lab")
        elif device.device_type != device_type:
            errors.append(f"{prefix}device: '{device_name}' is a {device.device_type}, not a {device_type}")
        candidates = [d for d in candidates if d.hostname == str(device_name)]
    if worker_name is not None:
        if str(worker_name) not in lab.workers:
            errors.append(f"{prefix}worker: no worker '{worker_name}' in this lab")
        candidates = [d for d in candidates if d.worker == str(worker_name)]
    if errors:
        raise SubmissionError(errors)
    if not candidates:
        where = f" on worker '{worker_name}'" if worker_name is not None else ""
        raise SubmissionError([f"{prefix}device_type: no usable (non-retired) {device_type} device{where}"])
    wanted = set(tag_names)
    usable = [d for d in candidates if wanted <= d.tags]
    if not usable:
        raise SubmissionError([f"{prefix}tags: no {device_type} device has all of the tags {', '.join(sorted(wanted))}"])
    return Placement(
        device_type,
        str(device_name) if device_name is not None else None,
        str(worker_name) if worker_name is not None else None,
        [lab.tags[name] for name in tag_names],
        len(usable),
    )


def _require_submit_rights(user, placements: list[tuple[str, Placement]]) -> None:
    """Refuse a job whose submitter may not submit to its device type or device (group permissions)."""
    errors = []
    for prefix, placement in placements:
        why = submit_refusal(user, placement.device_type, placement.device, placement.worker)
        if why:
            errors.append(f"{prefix}{'device' if placement.device else 'device_type'}: {why}")
    if errors:
        raise SubmissionError(sorted(set(errors)))


def _visibility(data: dict[str, Any]) -> tuple[bool, list[Group]]:
    visibility = data["visibility"]
    if visibility == "public":
        if "secrets" in data:
            # as the reference does: anyone may read a public job's log, where a test may print what it was given
            raise SubmissionError(
                ["secrets: a public job cannot have secrets: use 'visibility: personal' or 'visibility: {group: [...]}'"]
            )
        return True, []
    if visibility == "personal":
        return False, []
    names = visibility["group"]
    groups = list(Group.objects.filter(name__in=names))
    unknown = sorted(set(names) - {group.name for group in groups})
    if unknown:
        raise SubmissionError([f"visibility.group: unknown group(s) {', '.join(unknown)}"])
    return False, groups


def _metadata(data: dict[str, Any]) -> dict[str, Any]:
    def coerce(value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict):
            return {str(k): coerce(v) for k, v in value.items()}
        if isinstance(value, list):
            return [coerce(v) for v in value]
        return "" if value is None else str(value)

    return {str(key): coerce(value) for key, value in (data.get("metadata") or {}).items()}


# the largest value the queue_timeout column holds (about 68 years: never, for a queue)
QUEUE_TIMEOUT_LIMIT = 2**31 - 1


def _queue_timeout(data: dict[str, Any]) -> int | None:
    queue = data.get("timeouts", {}).get("queue")
    if queue:
        return min(timeout_seconds(queue), QUEUE_TIMEOUT_LIMIT)
    hours = settings.QUEUE_TIMEOUT_HOURS
    return int(timedelta(hours=hours).total_seconds()) if hours else None


def submit_job(text: str | bytes, user, original_url: str | None = None) -> list[TestJob]:
    """Validate and store a job (one row, or one per device of a MultiNode group)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    data = validate_definition(text)
    priority = parse_priority(data.get("priority", 50))
    is_public, groups = _visibility(data)
    metadata = _metadata(data)
    if original_url:
        metadata["job.original"] = original_url
    common = {
        "submitter": user,
        "priority": priority,
        "is_public": is_public,
        "metadata": metadata,
        "original_definition": text,
        "queue_timeout": _queue_timeout(data),
    }
    if "lava-multinode" in data.get("protocols", {}):
        return _submit_multinode(data, common, groups)
    placement = resolve_placement("", data["device_type"], data.get("tags", []), data.get("device"), data.get("worker"))
    _require_submit_rights(user, [("", placement)])
    # a job without tags or viewing groups is one INSERT, atomic by itself: no BEGIN and COMMIT round trips
    with transaction.atomic() if placement.tag_ids or groups else contextlib.nullcontext():
        job = _create(data, placement, common, groups)
        wake_scheduler("submitted")
    return [job]


def _create(definition: dict[str, Any], placement: Placement | None, common: dict[str, Any], groups) -> TestJob:
    """One job row; ``placement`` None for a dynamic connection (it rides on its host role's device)."""
    job = TestJob.objects.create(
        description=str(definition.get("job_name", ""))[:200],
        definition=dump_yaml(definition),
        requested_device_type_id=placement.device_type if placement else None,
        requested_device_id=placement.device if placement else None,
        requested_worker_id=placement.worker if placement else None,
        **common,
    )
    if placement and placement.tag_ids:
        through = TestJob.tags.through
        through.objects.bulk_create([through(testjob_id=job.pk, tag_id=tag_id) for tag_id in placement.tag_ids])
    if groups:
        job.viewing_groups.set(groups)
    return job


def _submit_multinode(data: dict[str, Any], common: dict[str, Any], groups) -> list[TestJob]:
    errors = host_role_errors(data["protocols"]["lava-multinode"]["roles"])
    if errors:
        raise SubmissionError(errors)
    sub_jobs = split_multinode(data)
    placements = [
        None if sub.dynamic_connection else resolve_placement(
            f"protocols.lava-multinode.roles.{sub.role}.", sub.device_type, sub.tags, sub.device, sub.worker)
        for sub in sub_jobs
    ]
    on_devices = [(sub, placement) for sub, placement in zip(sub_jobs, placements, strict=True) if placement]
    needed: dict[str, int] = {}
    for sub, _ in on_devices:
        needed[sub.role] = needed.get(sub.role, 0) + 1
    for sub, placement in on_devices:
        if placement.usable_devices < needed[sub.role]:
            raise SubmissionError(
                [
                    f"protocols.lava-multinode.roles.{sub.role}.count: {needed[sub.role]} devices needed, "
                    f"only {placement.usable_devices} usable {placement.device_type} device(s) in this lab"
                ]
            )
    _require_submit_rights(
        common["submitter"], [(f"protocols.lava-multinode.roles.{sub.role}.", placement) for sub, placement in on_devices]
    )
    common = dict(common, multinode_definition=common["original_definition"])
    jobs: list[TestJob] = []
    with transaction.atomic():
        for index, (sub, placement) in enumerate(zip(sub_jobs, placements, strict=True)):
            job = _create(sub.definition, placement, common, groups)
            job.target_group = sub.definition["protocols"]["lava-multinode"]["target_group"]
            first_id = jobs[0].pk if jobs else job.pk
            job.sub_id = f"{first_id}.{index}"
            sub.definition["protocols"]["lava-multinode"]["sub_id"] = index
            job.definition = dump_yaml(sub.definition)
            job.save(update_fields=["target_group", "sub_id", "definition"])
            jobs.append(job)
        wake_scheduler("submitted")
    return jobs


def resubmit_job(job: TestJob, user) -> list[TestJob]:
    """Submit a job's definition again (the whole group for MultiNode), noting where it came from.

    Someone else than the submitter (with the right to change jobs) resubmits
    the definition as they may read it: with its secrets masked.
    """
    text = readable_definition(job.multinode_definition or job.original_definition or job.definition, job, user)
    return submit_job(text, user, original_url=f"{settings.BASE_URL}/scheduler/job/{job.display_id}")
