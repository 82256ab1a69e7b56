"""Filters and globals that device-type templates may use.

Templates run in a sandbox, so these are the only Python code they can reach
besides Jinja2's own builtins.
"""

import json
import shlex
from typing import Any, NoReturn

from jinja2 import Undefined

_IDE_ARCHITECTURES = frozenset({"amd64", "x86_64", "i386"})


class TemplateFailure(Exception):
    """Raised by the `fail()` template global: the template itself refuses its inputs."""


def shlex_quote(value: Any) -> str:
    """Quote a value for a POSIX shell command line."""
    return shlex.quote(str(value))


def yaml_quote(value: Any) -> str:
    """Render any value as a YAML flow scalar/collection that parses back to the same value.

    JSON is a subset of YAML's flow style, so a JSON encoding is always a safe
    way to drop user text into a YAML document, whatever quotes it contains.
    """
    if isinstance(value, Undefined):
        # str() of an undefined raises for the strict kinds and is '' otherwise: keep that rule
        value = str(value)
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


def qemu_guest_fs_interface(arch: Any, override: Any = None) -> str:
    """Disk interface of the QEMU guest filesystem: IDE on x86, virtio elsewhere, unless overridden."""
    if override and not isinstance(override, Undefined):
        return str(override)
    return "ide" if str(arch) in _IDE_ARCHITECTURES else "virtio"


def fail(message: Any) -> NoReturn:
    """Let a template stop rendering with its own explanation (e.g. an unsupported arch)."""
    raise TemplateFailure(str(message))


FILTERS = {
    "shlex_quote": shlex_quote,
    "yaml_quote": yaml_quote,
    "qemu_guest_fs_interface": qemu_guest_fs_interface,
}

GLOBALS = {"fail": fail}
