"""Device configuration: device dictionaries rendered through device-type templates.

Django-free on purpose: the server, the scheduler and the share/ scripts all
use it, and none of them should need settings to render a device.
"""

from lava_scheduler.device_config.device_types import (
    device_type_of_dictionary,
    list_device_types,
    template_exists,
)
from lava_scheduler.device_config.errors import DeviceConfigError
from lava_scheduler.device_config.render import (
    default_device_types_paths,
    render_device_config,
    render_device_yaml,
)

__all__ = [
    "DeviceConfigError",
    "default_device_types_paths",
    "device_type_of_dictionary",
    "list_device_types",
    "render_device_config",
    "render_device_yaml",
    "template_exists",
]
