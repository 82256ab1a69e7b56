"""The lab's configuration files: device dictionaries and health-check jobs.

Like the reference, these live in files (``DEVICES_PATH``,
``HEALTH_CHECKS_PATH``), not in the database, so that admins can keep them
in git and edit them with any tool.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

from lava_common import file_modes
from lava_scheduler.device_config import (
    DeviceConfigError,
    device_type_of_dictionary,
    render_device_config,
    render_device_yaml,
)


def dictionary_path(hostname: str) -> Path:
    return Path(settings.DEVICES_PATH) / f"{hostname}.jinja2"


def read_dictionary(hostname: str) -> str | None:
    path = dictionary_path(hostname)
    return path.read_text(encoding="utf-8") if path.exists() else None


def write_atomically(path: Path, text: str) -> None:
    file_modes.make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, file_modes.FILE_MODE)  # dictionaries hold power and console credentials
    file_modes.owned_like_folder(tmp)
    os.replace(tmp, path)


def write_dictionary(hostname: str, text: str) -> None:
    write_atomically(dictionary_path(hostname), text)


def render_kwargs() -> dict[str, Any]:
    return {"devices_path": Path(settings.DEVICES_PATH), "device_types_paths": list(settings.DEVICE_TYPES_PATHS)}


def render_device(hostname: str, job_context: dict[str, Any] | None = None, text: str | None = None) -> dict:
    """The device's configuration for a job; DeviceConfigError when it cannot be made."""
    return render_device_config(hostname, text, job_context, **render_kwargs())


def render_device_text(hostname: str, job_context: dict[str, Any] | None = None, text: str | None = None) -> str:
    return render_device_yaml(hostname, text, job_context, **render_kwargs())


def extended_type(hostname: str) -> str | None:
    """The device type the device's dictionary extends, or None without a usable dictionary."""
    text = read_dictionary(hostname)
    if text is None:
        return None
    try:
        return device_type_of_dictionary(text, source=hostname)
    except DeviceConfigError:
        return None


def health_check_of_type(device_type: str) -> Path | None:
    for suffix in (".yaml", ".yml"):
        path = Path(settings.HEALTH_CHECKS_PATH) / f"{device_type}{suffix}"
        if path.exists():
            return path
    return None

