"""Render a device dictionary into the device configuration the dispatcher reads.

The dictionary extends a device-type template; rendering gives YAML, which is
parsed and checked against the device schema before anyone ships it to a
worker. Every failure becomes a DeviceConfigError naming the device and the
cause, with a template file and line where there is one.
"""

import pickle
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from jinja2 import Template
from jinja2.exceptions import SecurityError, TemplateError, TemplateNotFound, TemplateSyntaxError

from lava_common.schemas.device import DeviceSchemaError, validate_device
from lava_common.yaml_loader import Loader
from lava_scheduler.device_config.device_types import device_type_of_dictionary, template_exists
from lava_scheduler.device_config.environment import TEMPLATE_SUFFIX, environment_for, search_path
from lava_scheduler.device_config.errors import DeviceConfigError
from lava_scheduler.device_config.filters import TemplateFailure

REPO_DEVICE_TYPES = Path(__file__).resolve().parents[2] / "device-types"
INSTALLED_DEVICE_TYPES = Path("/etc/lava-server/dispatcher-config/device-types")
# far above any real device (a few KiB); guards against a runaway job context
MAX_RENDERED_CHARS = 2_000_000
_SAFE_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def default_device_types_paths() -> list[Path]:
    """The device-type folders used when the caller names none: a lab install's, then this checkout's."""
    return [path for path in (INSTALLED_DEVICE_TYPES, REPO_DEVICE_TYPES) if path.is_dir()]


def render_device_yaml(
    hostname: str,
    dictionary_text: str | None = None,
    job_context: dict[str, Any] | None = None,
    *,
    devices_path: Path | None = None,
    device_types_paths: Sequence[Path] | None = None,
) -> str:
    """The rendered device configuration as YAML text, already parsed and schema-checked."""
    text, _ = _render(hostname, dictionary_text, job_context, devices_path, device_types_paths)
    return text


def render_device_config(
    hostname: str,
    dictionary_text: str | None = None,
    job_context: dict[str, Any] | None = None,
    *,
    devices_path: Path | None = None,
    device_types_paths: Sequence[Path] | None = None,
) -> dict[str, Any]:
    """The rendered, parsed and schema-validated device configuration.

    ``dictionary_text`` defaults to ``<devices_path>/<hostname>.jinja2``; the
    job context fills the variables the dictionary leaves unset.
    """
    _, data = _render(hostname, dictionary_text, job_context, devices_path, device_types_paths)
    return data


def _render(
    hostname: str,
    dictionary_text: str | None,
    job_context: dict[str, Any] | None,
    devices_path: Path | None,
    device_types_paths: Sequence[Path] | None,
) -> tuple[str, dict[str, Any]]:
    where = f"device {hostname!r}"
    type_paths = list(device_types_paths) if device_types_paths is not None else default_device_types_paths()
    if dictionary_text is None:
        dictionary_text = _read_dictionary(hostname, devices_path)
    device_type = device_type_of_dictionary(dictionary_text, source=where)
    folders = search_path(devices_path, type_paths)
    if not template_exists(device_type, [Path(f) for f in folders]):
        searched = ", ".join(folders) or "no folder at all"
        raise DeviceConfigError(
            f"{where}: unknown device type {device_type!r} (no {device_type}{TEMPLATE_SUFFIX} in {searched})"
        )
    where = f"device {hostname!r} (type {device_type!r})"
    if job_context is not None and not isinstance(job_context, dict):
        raise DeviceConfigError(f"{where}: the job context must be a mapping, not {type(job_context).__name__}")
    context = dict(job_context or {})
    context["scheduled_device_name"] = hostname
    context["scheduled_device_type"] = device_type
    rendered = _run_template(folders, dictionary_text, context, where)
    known = _checked_configs.get(rendered)
    if known is not None:
        return rendered, pickle.loads(known)
    data = _parse_rendered(rendered, where)
    if not isinstance(data, dict):
        raise DeviceConfigError(f"{where}: the rendered configuration is not a mapping")
    try:
        validate_device(data)
    except DeviceSchemaError as exc:
        raise DeviceConfigError(f"{where}: invalid rendered configuration: {'; '.join(exc.errors)}",
                                errors=exc.errors) from None
    _remember(rendered, data)
    return rendered, data


# Parsing the YAML costs three times the rendering itself, and a device renders to the same
# text job after job: keep the checked result of recent texts, pickled so that every caller
# gets its own copy to mutate.
_CHECKED_CACHE_SIZE = 512
_checked_configs: dict[str, bytes] = {}
_checked_lock = threading.Lock()


def _remember(rendered: str, data: dict[str, Any]) -> None:
    frozen = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    with _checked_lock:
        if len(_checked_configs) >= _CHECKED_CACHE_SIZE:
            _checked_configs.pop(next(iter(_checked_configs)))
        _checked_configs[rendered] = frozen


def _parse_rendered(rendered: str, where: str) -> Any:
    # our own templates wrote this text and quote every outside value with yaml_quote, so the
    # plain C safe loader is enough; the bounded loader's extra passes would triple the cost
    if len(rendered) > MAX_RENDERED_CHARS:
        raise DeviceConfigError(f"{where}: the rendered configuration is {len(rendered)} characters, "
                                f"more than the limit of {MAX_RENDERED_CHARS}")
    try:
        return yaml.load(rendered, Loader=Loader)  # Loader is the C *safe* loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is None:
            raise DeviceConfigError(f"{where}: the rendered configuration is not valid YAML: {problem}") from None
        lines = rendered.splitlines()
        text = lines[mark.line].strip() if mark.line < len(lines) else ""
        raise DeviceConfigError(
            f"{where}: the rendered configuration is not valid YAML: line {mark.line + 1}, "
            f"column {mark.column + 1}: {problem} (rendered line: {text!r})"
        ) from None


def _read_dictionary(hostname: str, devices_path: Path | None) -> str:
    if devices_path is None:
        raise DeviceConfigError(f"device {hostname!r}: no dictionary text given and no devices folder to read it from")
    if not _SAFE_HOSTNAME.match(hostname):
        raise DeviceConfigError(f"device {hostname!r}: not a valid device name for a dictionary file")
    path = Path(devices_path) / f"{hostname}{TEMPLATE_SUFFIX}"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeviceConfigError(f"device {hostname!r}: no device dictionary ({path} does not exist)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeviceConfigError(f"device {hostname!r}: cannot read {path}: {exc}") from None


@lru_cache(maxsize=2048)
def _compiled_dictionary(folders: tuple[str, ...], text: str) -> Template:
    # dictionaries change rarely and are rendered for every job: compile each text once
    return environment_for(folders).from_string(text)


def _run_template(folders: tuple[str, ...], text: str, context: dict[str, Any], where: str) -> str:
    try:
        return _compiled_dictionary(folders, text).render(context)
    except TemplateSyntaxError as exc:
        name = exc.filename or exc.name or "the dictionary"
        raise DeviceConfigError(f"{where}: {_short(name)} line {exc.lineno}: template syntax error: {exc.message}") from None
    except TemplateNotFound as exc:
        raise DeviceConfigError(f"{where}: template {exc.name!r} not found in {', '.join(folders)}") from None
    except SecurityError as exc:
        raise DeviceConfigError(f"{where}: {_location(exc.__traceback__)}refused by the sandbox: {exc}") from None
    except TemplateFailure as exc:
        raise DeviceConfigError(f"{where}: {_location(exc.__traceback__)}{exc}") from None
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        raise DeviceConfigError(f"{where}: {_location(exc.__traceback__)}rendering failed: {exc}") from None


def _short(filename: str) -> str:
    return Path(filename).name if filename.endswith(TEMPLATE_SUFFIX) else filename


def _location(tb: TracebackType | None) -> str:
    """'<file> line N: ' of the innermost template frame of a traceback, or ''."""
    found = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(TEMPLATE_SUFFIX) or filename == "<template>":
            label = "the dictionary" if filename == "<template>" else _short(filename)
            found = f"{label} line {tb.tb_lineno}: "
        tb = tb.tb_next
    return found
