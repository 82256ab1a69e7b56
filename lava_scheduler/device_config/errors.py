"""The one error type of device configuration rendering."""

from lava_common.exceptions import ConfigurationError


class DeviceConfigError(ConfigurationError):
    """A device's configuration cannot be rendered; the message names the device and the cause.

    ``errors`` holds the individual schema errors when the rendered YAML was
    parsed but does not have the shape the dispatcher needs.
    """

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])
