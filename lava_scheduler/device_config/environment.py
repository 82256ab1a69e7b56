"""The sandboxed Jinja2 environment that renders device dictionaries.

One environment per search path is built once and kept: it holds the
compiled device-type templates, so rendering on the scheduler's hot path
only re-reads a template when its file changed on disk.
"""

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from lava_scheduler.device_config.filters import FILTERS, GLOBALS

TEMPLATE_SUFFIX = ".jinja2"
# every device type's templates chain is small: this keeps the common ones compiled
TEMPLATE_CACHE_SIZE = 400


class DeviceSandbox(SandboxedEnvironment):
    """A sandbox in which touching an unsafe attribute is an error at once.

    Jinja2's stock sandbox returns an undefined value instead, which
    `| default(...)` would quietly turn into a fallback: a dictionary trying
    `''.__class__` must fail, not render.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")


def search_path(devices_path: Path | None, device_types_paths: Sequence[Path]) -> tuple[str, ...]:
    """Folders searched for templates, first match wins: devices, then device types in order."""
    folders = ([devices_path] if devices_path is not None else []) + list(device_types_paths)
    return tuple(str(Path(folder)) for folder in folders)


@lru_cache(maxsize=32)
def environment_for(folders: tuple[str, ...]) -> DeviceSandbox:
    """The (cached) environment whose loader searches ``folders`` in order."""
    env = DeviceSandbox(
        loader=FileSystemLoader(list(folders)),
        autoescape=False,
        trim_blocks=True,
        cache_size=TEMPLATE_CACHE_SIZE,
        auto_reload=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env
