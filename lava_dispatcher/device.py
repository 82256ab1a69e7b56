"""What a board has, read from the rendered device configuration (device.yaml).

Only data lives here: the drivers that act on it are in ``power.py`` and
``console.py``. The key layout is the reference's rendered device YAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from lava_common.exceptions import ConfigurationError
from lava_common.records import field, record

DEFAULT_KERNEL_START = "Linux version [0-9]"
DEFAULT_SHELL_PROMPT = "lava-test: # "
DEFAULT_SHUTDOWN = "The system is going down for reboot NOW"


def _as_command_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ConfigurationError(f"device configuration: {where} must be a string or a list of strings")


@record(frozen=True)
class PowerCommands:
    power_on: list[str] = field(default_factory=list)
    power_off: list[str] = field(default_factory=list)
    hard_reset: list[str] = field(default_factory=list)
    pre_power: list[str] = field(default_factory=list)
    pre_os: list[str] = field(default_factory=list)
    soft_reboot: list[str] = field(default_factory=list)


class ConnectionSpec(NamedTuple):
    name: str
    command: str
    tags: tuple[str, ...] = ()


@record
class DeviceConfig:
    hostname: str
    device_type: str
    constants: dict[str, Any]
    parameters: dict[str, Any]
    actions: dict[str, Any]
    timeouts: dict[str, Any]
    power: PowerCommands
    connections: list[ConnectionSpec]
    user_commands: dict[str, dict[str, Any]]
    character_delays: dict[str, int]
    environment: dict[str, Any]
    raw: dict[str, Any]

    # -- methods the device supports
    def deploy_methods(self) -> dict[str, Any]:
        return self.actions.get("deploy", {}).get("methods", {}) or {}

    def boot_methods(self) -> dict[str, Any]:
        return self.actions.get("boot", {}).get("methods", {}) or {}

    @property
    def primary_connection(self) -> ConnectionSpec | None:
        for conn in self.connections:
            if "primary" in conn.tags:
                return conn
        return self.connections[0] if self.connections else None

    # -- constants with the reference's defaults
    @property
    def kernel_start_message(self) -> str:
        return str(self.constants.get("kernel-start-message", DEFAULT_KERNEL_START))

    @property
    def default_shell_prompt(self) -> str:
        return str(self.constants.get("default-shell-prompt", DEFAULT_SHELL_PROMPT))

    @property
    def spawn_maxread(self) -> int:
        return int(self.constants.get("spawn_maxread", 4092))

    @property
    def failure_retry(self) -> int:
        return int(self.constants.get("failure_retry", 1))

    @property
    def boot_retry(self) -> int | None:
        value = self.constants.get("boot_retry")
        return int(value) if value is not None else None

    @property
    def posix(self) -> dict[str, str]:
        defaults = {"lava_test_sh_cmd": "/bin/sh", "lava_test_results_dir": "/lava-%s"}
        return {**defaults, **(self.constants.get("posix") or {})}

    def command_list(self, name: str) -> list[str]:
        """A ``commands:`` entry (power_on, recovery_mode...) as a list; empty when the device has none."""
        commands = self.raw.get("commands") or {}
        return _as_command_list(commands.get(name), f"commands.{name}")

    def bootloader_constants(self, name: str) -> dict[str, Any]:
        return dict(self.constants.get(name) or {})


def _connections(commands: dict[str, Any]) -> list[ConnectionSpec]:
    found: list[ConnectionSpec] = []
    named = commands.get("connections") or {}
    if not isinstance(named, dict):
        raise ConfigurationError("device configuration: commands.connections must be a mapping")
    for name, spec in named.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("connect"), str):
            raise ConfigurationError(f"device configuration: commands.connections.{name}.connect is missing")
        found.append(ConnectionSpec(name, spec["connect"], tuple(spec.get("tags") or ())))
    if isinstance(commands.get("connect"), str):
        found.insert(0, ConnectionSpec("connect", commands["connect"], ("primary",)))
    return found


def parse_device(data: Any, source: str = "device") -> DeviceConfig:
    """Typed view of a rendered device configuration; raises ConfigurationError naming the key."""
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source}: the device configuration must be a mapping")
    for key in ("actions", "timeouts"):
        if not isinstance(data.get(key, {}), dict):
            raise ConfigurationError(f"{source}: '{key}' must be a mapping")
    commands = data.get("commands") or {}
    if not isinstance(commands, dict):
        raise ConfigurationError(f"{source}: 'commands' must be a mapping")
    power = PowerCommands(
        power_on=_as_command_list(commands.get("power_on"), "commands.power_on"),
        power_off=_as_command_list(commands.get("power_off"), "commands.power_off"),
        hard_reset=_as_command_list(commands.get("hard_reset"), "commands.hard_reset"),
        pre_power=_as_command_list(commands.get("pre_power_command"), "commands.pre_power_command"),
        pre_os=_as_command_list(commands.get("pre_os_command"), "commands.pre_os_command"),
        soft_reboot=_as_command_list(commands.get("soft_reboot"), "commands.soft_reboot"),
    )
    delays = data.get("character_delays") or {}
    return DeviceConfig(
        hostname=str(data.get("hostname", "")),
        device_type=str(data.get("devicetype") or data.get("device_type") or ""),
        constants=dict(data.get("constants") or {}),
        parameters=dict(data.get("parameters") or {}),
        actions=dict(data.get("actions") or {}),
        timeouts=dict(data.get("timeouts") or {}),
        power=power,
        connections=_connections(commands),
        user_commands=dict(commands.get("users") or {}),
        character_delays={str(k): int(v) for k, v in delays.items()} if isinstance(delays, dict) else {},
        environment=dict(data.get("environment") or {}),
        raw=data,
    )


@record(frozen=True)
class DispatcherConfig:
    """dispatcher.yaml: where per-job scratch space and TFTP files go."""

    download_dir: Path = Path("/var/lib/lava/dispatcher/tmp")
    tftp_root: Path = Path("/srv/tftp")
    prefix: str = ""
    dispatcher_ip: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def parse_dispatcher(data: Any, source: str = "dispatcher") -> DispatcherConfig:
    if data is None:
        return DispatcherConfig()
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source}: the dispatcher configuration must be a mapping")
    defaults = DispatcherConfig()
    return DispatcherConfig(
        download_dir=Path(data.get("dispatcher_download_dir") or defaults.download_dir),
        tftp_root=Path(data.get("tftp_root") or data.get("dispatcher_tftp_dir") or defaults.tftp_root),
        prefix=str(data.get("prefix") or ""),
        dispatcher_ip=data.get("dispatcher_ip"),
        raw=data,
    )
