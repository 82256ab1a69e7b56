"""The reference's older, flat ``scheduler.*`` names that scripts still call.

Each one is the newer method under another name, or a small view of the same
data; permissions are those of the newer method. Reading a device's
dictionary or rendered configuration needs admin or change rights on devices.
"""

import xmlrpc.client
from typing import Any

from django.conf import settings

from lava_scheduler.device_config import DeviceConfigError
from lava_scheduler.jobs.masking import readable_definition
from lava_scheduler.jobs.models import UNFINISHED, TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab import files
from lava_scheduler.lab.models import Device, DeviceType
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.logs.store import job_output_dir
from lava_server.xmlrpc import lookup, scheduler_devices, scheduler_jobs
from lava_server.xmlrpc.registry import (
    Context,
    as_bool,
    as_int,
    as_text,
    fault,
    method,
    naive_utc,
    require_admin,
    require_user,
)

CHANGE_DEVICE = scheduler_devices.CHANGE
# one answer of job_output stays bounded whatever the size of the log; callers go on from the new offset
JOB_OUTPUT_MAX_BYTES = 16 << 20


@method("scheduler.resubmit_job")
def resubmit_job(ctx: Context, job_id: Any) -> int | list[str]:
    """Old name of scheduler.jobs.resubmit."""
    return scheduler_jobs.resubmit(ctx, job_id)


@method("scheduler.validate_yaml")
def validate_yaml(ctx: Context, yaml_string: Any) -> bool:
    """True when the definition is valid; otherwise Fault 400 with the first problem and where it is."""
    problem = scheduler_jobs.validate(ctx, yaml_string)
    if problem:
        raise fault(400, f"{problem['path']}: {problem['msg']}" if problem["path"] else problem["msg"])
    return True


@method("scheduler.job_output")
def job_output(ctx: Context, job_id: Any, offset: Any = 0) -> xmlrpc.client.Binary:
    """The job's raw log (output.yaml) from byte ``offset``, at most 16 MiB per call."""
    job = lookup.visible_job(ctx, job_id)
    start = as_int(offset, "offset", 0)
    if start < 0:
        raise fault(400, f"offset: must be 0 or more, got {start}")
    path = job_output_dir(job) / "output.yaml"
    if not path.exists():
        raise fault(404, f"Job '{job_id}' has no log yet")
    with open(path, "rb") as log:
        log.seek(start)
        return xmlrpc.client.Binary(log.read(JOB_OUTPUT_MAX_BYTES))


def _job_summary(job: TestJob) -> dict[str, Any]:
    return {
        "id": job.display_id, "description": job.description, "submitter": job.submitter.username,
        "device_type": job.requested_device_type_id, "device": job.actual_device_id,
        "state": job.get_state_display(), "health": job.get_health_display(),
        "submit_time": naive_utc(job.submit_time), "end_time": naive_utc(job.end_time),
    }


def _recent(ctx: Context, jobs, count: Any, restrict_to_user: Any) -> list[dict[str, Any]]:
    if as_bool(restrict_to_user, "restrict_to_user"):
        jobs = jobs.filter(submitter=require_user(ctx))
    limit = min(max(1, as_int(count, "count", 1)), scheduler_jobs.MAX_LIST)
    rows = visible_jobs(ctx.user, jobs.filter(state=JobState.FINISHED)).select_related("submitter")
    return [_job_summary(job) for job in rows.order_by("-end_time", "-pk")[:limit]]


@method("scheduler.get_recent_jobs_for_device_type")
def get_recent_jobs_for_device_type(
    ctx: Context, device_type: str, count: Any = 1, restrict_to_user: Any = False
) -> list[dict[str, Any]]:
    """The last ``count`` finished jobs of a device type, newest first."""
    found = lookup.device_type(device_type, ctx)
    return _recent(ctx, TestJob.objects.filter(requested_device_type=found), count, restrict_to_user)


@method("scheduler.get_recent_jobs_for_device")
def get_recent_jobs_for_device(
    ctx: Context, device: str, count: Any = 1, restrict_to_user: Any = False
) -> list[dict[str, Any]]:
    """The last ``count`` finished jobs that ran on a device, newest first."""
    found = lookup.device(device, ctx)
    return _recent(ctx, TestJob.objects.filter(actual_device=found), count, restrict_to_user)


@method("scheduler.get_device_status")
def get_device_status(ctx: Context, hostname: str) -> dict[str, Any]:
    """``{hostname, status, job, health, state, is_pipeline}``; status in the old words (idle, running, offline...)."""
    device = lookup.device(hostname, ctx)
    running = scheduler_devices.current_jobs(ctx, [device.hostname]).get(device.hostname)
    if device.health in (DeviceHealth.MAINTENANCE, DeviceHealth.RETIRED, DeviceHealth.BAD):
        status = device.get_health_display().lower()
    else:
        status = device.get_state_display().lower()
    return {
        "hostname": device.hostname, "status": status, "job": running,
        "health": device.get_health_display(), "state": device.get_state_display(), "is_pipeline": True,
    }


@method("scheduler.put_into_maintenance_mode")
def put_into_maintenance_mode(ctx: Context, hostname: str, reason: Any = None, notify: Any = None) -> None:
    """Device health -> Maintenance (a running job finishes first)."""
    scheduler_devices.update(ctx, hostname, health="MAINTENANCE", reason=reason or None)


@method("scheduler.put_into_online_mode")
def put_into_online_mode(ctx: Context, hostname: str, reason: Any = None, skip_health_check: Any = False) -> None:
    """Device health -> Unknown, so that a health check runs before any job (the skip flag is ignored, as in the reference)."""
    as_bool(skip_health_check, "skip_health_check")
    scheduler_devices.update(ctx, hostname, health="UNKNOWN", reason=reason or None)


@method("scheduler.pending_jobs_by_device_type")
def pending_jobs_by_device_type(ctx: Context, all: Any = False) -> dict[str, int]:  # noqa: A002 (the reference's name)
    """Queued jobs per device type (types without any only with ``all``)."""
    counts = {name: 0 for name in DeviceType.objects.values_list("name", flat=True)} if as_bool(all, "all") else {}
    queued = TestJob.objects.filter(state=JobState.SUBMITTED).values_list("requested_device_type_id", flat=True)
    for name in queued:
        if name:
            counts[name] = counts.get(name, 0) + 1
    return counts


@method("scheduler.job_details")
def job_details(ctx: Context, job_id: Any) -> dict[str, Any]:
    """scheduler.jobs.show plus the definition and the old ``status`` word."""
    job = lookup.visible_job(ctx, job_id, related=("submitter", "actual_device"))
    details = scheduler_jobs.show_struct(job)
    details["definition"] = readable_definition(job.definition, job, ctx.user)
    details["status"] = job.get_health_display() if job.state == JobState.FINISHED else job.get_state_display()
    return details


@method("scheduler.all_jobs")
def all_jobs(ctx: Context) -> list[list[Any]]:
    """Unfinished jobs: ``[id, description, device or nil, device type, state, health, submitter]``."""
    jobs = visible_jobs(ctx.user, TestJob.objects.filter(UNFINISHED)).select_related("submitter").order_by("pk")
    return [
        [job.display_id, job.description, job.actual_device_id, job.requested_device_type_id,
         job.get_state_display(), job.get_health_display(), job.submitter.username]
        for job in jobs
    ]


@method("scheduler.get_device_config")
def get_device_config(ctx: Context, device_hostname: str, context: Any = None) -> str:
    """The configuration a job on this device gets (rendered dictionary, YAML); admins only."""
    require_admin(ctx, CHANGE_DEVICE)
    return scheduler_devices.get_dictionary(ctx, device_hostname, True, context)


@method("scheduler.import_device_dictionary")
def import_device_dictionary(ctx: Context, hostname: str, jinja_str: Any) -> str:
    """Store a device dictionary (must extend the device's type)."""
    text = as_text(jinja_str, "jinja_str")
    if not text.strip():
        raise fault(400, "jinja_str: empty; to delete a dictionary use scheduler.devices.set_dictionary with ''")
    scheduler_devices.set_dictionary(ctx, hostname, text)
    return f"Device dictionary of {hostname} imported"


@method("scheduler.export_device_dictionary")
def export_device_dictionary(ctx: Context, hostname: str) -> str:
    """The device dictionary (Jinja2); admins only."""
    require_admin(ctx, CHANGE_DEVICE)
    return scheduler_devices.get_dictionary(ctx, hostname, False)


@method("scheduler.validate_pipeline_devices")
def validate_pipeline_devices(ctx: Context, name: Any = None) -> list[dict[str, Any]]:
    """Render each device's configuration (all, one device, or one device type's): ``[{device, valid, message}]``."""
    require_admin(ctx, CHANGE_DEVICE)
    devices = Device.objects.exclude(health=DeviceHealth.RETIRED).order_by("hostname")
    if name:
        devices = devices.filter(hostname=str(name)) or devices.filter(device_type=str(name))
        if not devices:
            raise fault(404, f"No device or device type named '{name}'")
    report = []
    for device in devices:
        try:
            files.render_device(device.hostname)
            report.append({"device": device.hostname, "valid": True, "message": ""})
        except (DeviceConfigError, OSError) as exc:
            report.append({"device": device.hostname, "valid": False, "message": str(exc)})
    return report


@method("scheduler.get_publisher_event_socket")
def get_publisher_event_socket(ctx: Context) -> str:
    """lava-publisher's ZeroMQ PUB address (``*`` stands for this server's host name)."""
    return settings.EVENT_SOCKET
