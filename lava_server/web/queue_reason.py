"""Why a queued job waits: the "queue transparency" goal of design.md.

The answer mirrors the scheduler's own rules (scheduler/lab_view.py and
core.py): a device can take the job when it is of the requested type, has
all the job's tags, matches a requested device or worker, is Idle, Good or
Unknown, and sits on an Online, Active worker below its job limit.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.lab.models import Device
from lava_scheduler.lab.states import DeviceHealth, DeviceState, WorkerHealth, WorkerState
from lava_scheduler.permissions.rules import SUBMIT, hidden_devices

UNUSABLE_HEALTH = {
    DeviceHealth.BAD: "is Bad",
    DeviceHealth.MAINTENANCE: "is in Maintenance",
    DeviceHealth.RETIRED: "is Retired",
    DeviceHealth.LOOPING: "is Looping (it runs health checks only)",
}


@dataclass
class QueueExplanation:
    summary: str
    devices: list[tuple[str, str]] = field(default_factory=list)  # (hostname, why it can or cannot run it)
    ahead: int = 0
    timeout_at: object = None


def _worker_problem(device: Device, busy_per_worker: dict[str, int]) -> str | None:
    worker = device.worker_host
    if worker is None:
        return "has no worker"
    if worker.health != WorkerHealth.ACTIVE:
        return f"its worker {worker.hostname} is {worker.get_health_display()}"
    if worker.state != WorkerState.ONLINE:
        return f"its worker {worker.hostname} is offline"
    if worker.job_limit and busy_per_worker.get(worker.hostname, 0) >= worker.job_limit:
        return f"its worker {worker.hostname} is at its limit of {worker.job_limit} job(s)"
    return None


def _why_not(device: Device, busy_per_worker: dict[str, int]) -> tuple[str, str]:
    """("idle" | "busy" | "unusable", reason) for one candidate device."""
    if device.health in UNUSABLE_HEALTH:
        return "unusable", UNUSABLE_HEALTH[DeviceHealth(device.health)]
    problem = _worker_problem(device, busy_per_worker)
    if problem:
        return "unusable", problem
    if device.state != DeviceState.IDLE:
        return "busy", f"is busy ({device.get_state_display()})"
    if device.health == DeviceHealth.UNKNOWN:
        return "idle", "is Idle (health Unknown: a health check may run first)"
    return "idle", "is Idle and Good"


def jobs_ahead(job: TestJob) -> int:
    """Queued jobs of the same device type the scheduler will consider first."""
    earlier = Q(priority__gt=job.priority) | Q(priority=job.priority, submit_time__lt=job.submit_time)
    earlier |= Q(priority=job.priority, submit_time=job.submit_time, id__lt=job.pk)
    return TestJob.objects.filter(
        earlier, state=JobState.SUBMITTED, requested_device_type_id=job.requested_device_type_id
    ).count()


def explain_wait(job: TestJob) -> QueueExplanation | None:
    """Why ``job`` has not started yet; None when it is not waiting."""
    if job.state == JobState.SCHEDULING:
        waiting = TestJob.objects.filter(target_group=job.target_group, state=JobState.SUBMITTED).exclude(
            requested_device_type=None).count()  # its secondary connections need no device
        return QueueExplanation(
            f"This job has its device; it waits for {waiting} other job(s) of its MultiNode group to get theirs."
        )
    if job.state != JobState.SUBMITTED:
        return None
    if job.is_dynamic_connection:
        return QueueExplanation("This job has no device of its own: it logs in over ssh to the board of its "
                                "MultiNode group's host role, and starts when that board's job does.")
    type_name = job.requested_device_type_id
    devices = Device.objects.filter(device_type_id=type_name).select_related("worker_host").prefetch_related("tags")
    if job.requested_device_id:
        devices = devices.filter(hostname=job.requested_device_id)
    if job.requested_worker_id:
        devices = devices.filter(worker_host_id=job.requested_worker_id)
    devices = list(devices)
    wanted = {tag.name for tag in job.tags.all()}
    fitting = [d for d in devices if wanted <= {tag.name for tag in d.tags.all()}]
    closed = hidden_devices(job.submitter, SUBMIT) or set()
    allowed = [d for d in fitting if d.hostname not in closed]
    explanation = QueueExplanation("", ahead=jobs_ahead(job))
    if job.queue_timeout:
        explanation.timeout_at = job.submit_time + timedelta(seconds=job.queue_timeout)
    if fitting and not allowed:
        explanation.summary = (
            f"Every matching {type_name} device is reserved to groups its submitter is not in "
            "(group permissions changed since it was submitted)."
        )
        return explanation
    fitting = allowed
    if not fitting:
        if devices and wanted:
            explanation.summary = f"No {type_name} device has all the tags {', '.join(sorted(wanted))}."
        else:
            explanation.summary = f"No {type_name} device matches this job's requirements."
        return explanation
    workers = {d.worker_host_id for d in fitting if d.worker_host_id}
    busy_per_worker: dict[str, int] = {}
    for hostname in Device.objects.filter(
        worker_host__in=workers, state__in=(DeviceState.RESERVED, DeviceState.RUNNING)
    ).values_list("worker_host", flat=True):
        busy_per_worker[hostname] = busy_per_worker.get(hostname, 0) + 1
    verdicts = [(device, *_why_not(device, busy_per_worker)) for device in fitting]
    explanation.devices = [(device.hostname, reason) for device, _, reason in verdicts]
    kinds = {kind for _, kind, _ in verdicts}
    ahead = f" {explanation.ahead} job(s) of this type are ahead of it in the queue." if explanation.ahead else ""
    if "idle" in kinds:
        explanation.summary = (
            f"A device is ready, but {explanation.ahead} job(s) of this type come first."
            if explanation.ahead
            else "A device is ready for it: the scheduler starts it on its next pass (normally within a second)."
        )
    elif "busy" in kinds:
        usable = sum(1 for _, kind, _ in verdicts if kind == "busy")
        busy = f"All {usable} usable {type_name} devices are busy." if usable > 1 else (
            f"The only usable {type_name} device is busy.")
        explanation.summary = busy + ahead
    else:
        explanation.summary = (
            f"No usable {type_name} device: it waits until an admin brings one back (see below).{ahead}"
        )
    return explanation
