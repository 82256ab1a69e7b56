"""What a worker receives to run a job: definition, device configuration, dispatcher settings."""

from pathlib import Path
from typing import Any

from django.conf import settings

from lava_common import file_modes
from lava_common.yaml_loader import dump_yaml, load_yaml
from lava_scheduler.device_config import DeviceConfigError
from lava_scheduler.device_config.minimise import minimised_config
from lava_scheduler.jobs.dynamic import host_job
from lava_scheduler.lab import files
from lava_scheduler.logs.store import job_output_dir


def _worker_file(worker: str, name: str) -> str:
    """``dispatcher.d/<worker>/<name>``, ``dispatcher.d/<worker>.yaml`` for dispatcher.yaml, else empty."""
    base = Path(settings.DISPATCHER_D)
    candidates = [base / worker / name]
    if name == "dispatcher.yaml":
        candidates.append(base / f"{worker}.yaml")
    else:
        candidates.append(Path(settings.CONFIG_DIR) / name)
    for path in candidates:
        if path.exists():
            return path.read_text(encoding="utf-8")
    return ""


def start_fields(job) -> dict[str, Any]:
    """The fields of a ``start`` message; raises DeviceConfigError when the device cannot be rendered."""
    if job.is_dynamic_connection:
        host = host_job(job)
        if host is None:
            raise DeviceConfigError(f"dynamic connection {job.display_id}: no member of its group holds a device of "
                                    "its host_role")
        device = host.actual_device
        context = (load_yaml(host.definition) or {}).get("context") or {}
        device_yaml = dump_yaml(minimised_config(load_yaml(files.render_device_text(device.hostname, job_context=context))))
    else:
        definition = load_yaml(job.definition) or {}
        device = job.actual_device
        device_yaml = files.render_device_text(device.hostname, job_context=definition.get("context") or {})
    worker = device.worker_host_id or ""
    fields = {
        "job_id": job.pk,
        "definition": job.definition,
        "device": device_yaml,
        "dispatcher": _worker_file(worker, "dispatcher.yaml"),
        "env": _worker_file(worker, "env.yaml"),
        "env_dut": _worker_file(worker, "env-dut.yaml"),
    }
    archive(job, fields)
    return fields


def archive(job, fields: dict[str, Any]) -> None:
    """Keep what the job ran with beside its log, for whoever debugs it later."""
    directory = job_output_dir(job)
    file_modes.make_dirs(directory)
    for key, name in (("definition", "job.yaml"), ("device", "device.yaml"), ("dispatcher", "dispatcher.yaml"),
                      ("env", "env.yaml"), ("env_dut", "env-dut.yaml")):
        file_modes.write_text(directory / name, fields[key])
