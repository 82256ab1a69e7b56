"""Schema of a rendered device configuration (the device.yaml a dispatcher reads).

Self-contained on purpose (no other schema module is imported): the server
checks every rendered device with it, and the dispatcher may check the file
it was given. Extra keys are allowed everywhere, as in the reference; the keys
the dispatcher relies on must have the right shape, and every problem is
reported with its path, e.g. ``commands.power_on: expected a string or a list
of strings``.
"""

from collections.abc import Callable
from typing import Any

from lava_common.device_commands import DEVICE_COMMANDS
from lava_common.timeouts import UNITS

REQUIRED_MAPPINGS = ("constants", "parameters", "actions", "timeouts")
# a device driven over ssh as its primary connection has no power control of its own
SSH_FORBIDS = ("power_on", "power_off", "hard_reset")
BOOTLOADERS = ("u-boot", "barebox", "grub", "grub-efi", "ipxe", "depthcharge")
BOOT_COMMANDS = ("image", "booti", "uimage", "bootm", "zimage", "bootz")


class DeviceSchemaError(ValueError):
    """The configuration does not match the schema; ``errors`` lists each problem as 'path: reason'."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


Check = Callable[[Any], str | None]


def _is_str(value: Any) -> str | None:
    return None if isinstance(value, str) else "expected a string"


def _is_int(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return None if ok else "expected an integer"


def _is_non_negative_int(value: Any) -> str | None:
    return _is_int(value) or (None if value >= 0 else "expected an integer >= 0")


def _is_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "expected true or false"


def _is_str_or_int(value: Any) -> str | None:
    return None if isinstance(value, str) or _is_int(value) is None else "expected a string or an integer"


def _is_str_list(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    return None if ok else "expected a list of strings"


def _is_command(value: Any) -> str | None:
    ok = isinstance(value, str) or _is_str_list(value) is None
    return None if ok else "expected a string or a list of strings"


def _is_mapping_list(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(item, dict) for item in value)
    return None if ok else "expected a list of mappings"


def _is_usb_id(value: Any) -> str | None:
    ok = isinstance(value, str) and len(value) == 4
    return None if ok else "expected a string of 4 characters"


OPTIONAL_TOP_LEVEL: dict[str, Check] = {
    "hostname": _is_str,
    "devicetype": _is_str,
    "available_architectures": _is_str_list,
    "device_info": _is_mapping_list,
    "static_info": _is_mapping_list,
    "storage_info": _is_mapping_list,
    "environment": lambda v: None if isinstance(v, dict) else "expected a mapping",
    "flash_cmds_order": _is_str_list,
    "adb_serial_number": _is_str,
    "fastboot_serial_number": _is_str,
    "fastboot_options": _is_str_list,
    "fastboot_via_uboot": _is_bool,
    "board_id": _is_str,
    "usb_vendor_id": _is_usb_id,
    "usb_product_id": _is_usb_id,
    "usb_sleep": _is_non_negative_int,
    "usb_filesystem_label": _is_str,
    "usb_serial_driver": _is_str,
}

CONSTANT_CHECKS: dict[str, Check] = {
    "kernel-start-message": _is_str,
    "shutdown-message": _is_str,
    "default-shell-prompt": _is_str,
    "spawn_maxread": _is_str_or_int,
    "failure_retry": _is_non_negative_int,
    "boot_retry": _is_non_negative_int,
}

BOOTLOADER_CHECKS: dict[str, Check] = {
    "interrupt-prompt": _is_str,
    "interrupt-character": _is_str,
    "interrupt-newline": _is_bool,
    "interrupt_ctrl_list": _is_str_list,
    "final-message": _is_str,
    "error-messages": _is_str_list,
}


class _Collector:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: str, reason: str) -> None:
        self.errors.append(f"{path}: {reason}")

    def check(self, path: str, value: Any, check: Check) -> None:
        reason = check(value)
        if reason:
            self.add(path, reason)

    def mapping(self, path: str, value: Any, allow_none: bool = False) -> dict[str, Any] | None:
        """The value if it is a mapping (None counts as empty when allowed), else record an error."""
        if value is None and allow_none:
            return {}
        if isinstance(value, dict):
            return value
        self.add(path, "expected a mapping")
        return None

    def keys(self, path: str, data: dict[str, Any], checks: dict[str, Check]) -> None:
        for key, check in checks.items():
            if key in data:
                self.check(f"{path}{key}", data[key], check)


def validate_device(data: dict[str, Any]) -> None:
    """Raise DeviceSchemaError listing every problem of a rendered device configuration."""
    out = _Collector()
    if not isinstance(data, dict):
        raise DeviceSchemaError(["device configuration: expected a mapping"])
    for key in REQUIRED_MAPPINGS:
        if key not in data:
            out.add(key, "required key missing")
    out.keys("", data, OPTIONAL_TOP_LEVEL)
    if "character_delays" in data:
        _check_character_delays(out, data["character_delays"])
    if "constants" in data:
        _check_constants(out, data["constants"])
    if "commands" in data:
        _check_commands(out, data["commands"])
    if "parameters" in data:
        _check_parameters(out, data["parameters"])
    if "actions" in data:
        _check_actions(out, data["actions"])
    if "timeouts" in data:
        _check_timeouts(out, data["timeouts"])
    _check_ssh_primary(out, data)
    if out.errors:
        raise DeviceSchemaError(out.errors)


def _check_character_delays(out: _Collector, value: Any) -> None:
    delays = out.mapping("character_delays", value, allow_none=True)
    for section, delay in (delays or {}).items():
        out.check(f"character_delays.{section}", delay, _is_non_negative_int)


def _check_constants(out: _Collector, value: Any) -> None:
    constants = out.mapping("constants", value)
    if constants is None:
        return
    out.keys("constants.", constants, CONSTANT_CHECKS)
    if "posix" in constants:
        posix = out.mapping("constants.posix", constants["posix"])
        for key, item in (posix or {}).items():
            out.check(f"constants.posix.{key}", item, _is_str)
    for name in BOOTLOADERS:
        if name in constants:
            block = out.mapping(f"constants.{name}", constants[name])
            if block is not None:
                out.keys(f"constants.{name}.", block, BOOTLOADER_CHECKS)


def _check_commands(out: _Collector, value: Any) -> None:
    commands = out.mapping("commands", value, allow_none=True)
    if not commands:
        return
    if "connect" in commands:
        out.check("commands.connect", commands["connect"], _is_str)
    for key in DEVICE_COMMANDS:
        if key in commands:
            out.check(f"commands.{key}", commands[key], _is_command)
    if "must_use_connection" in commands:
        out.check("commands.must_use_connection", commands["must_use_connection"], _is_bool)
    if "connections" in commands:
        connections = out.mapping("commands.connections", commands["connections"])
        for name, spec in (connections or {}).items():
            path = f"commands.connections.{name}"
            spec = out.mapping(path, spec)
            if spec is None:
                continue
            if "connect" not in spec:
                out.add(f"{path}.connect", "required key missing")
            else:
                out.check(f"{path}.connect", spec["connect"], _is_str)
            if "tags" in spec:
                out.check(f"{path}.tags", spec["tags"], _is_str_list)
    if "users" in commands:
        users = out.mapping("commands.users", commands["users"])
        for name, spec in (users or {}).items():
            path = f"commands.users.{name}"
            spec = out.mapping(path, spec)
            if spec is None:
                continue
            if "do" not in spec:
                out.add(f"{path}.do", "required key missing")
            for key in ("do", "undo"):
                if key in spec:
                    out.check(f"{path}.{key}", spec[key], _is_str)


def _check_parameters(out: _Collector, value: Any) -> None:
    parameters = out.mapping("parameters", value)
    if parameters is None:
        return
    for key in ("interfaces", "media"):
        if key in parameters:
            out.mapping(f"parameters.{key}", parameters[key])
    for command in BOOT_COMMANDS:
        if command not in parameters:
            continue
        addresses = out.mapping(f"parameters.{command}", parameters[command])
        for key, address in (addresses or {}).items():
            out.check(f"parameters.{command}.{key}", address, _is_str_or_int)


def _check_actions(out: _Collector, value: Any) -> None:
    actions = out.mapping("actions", value)
    if actions is None:
        return
    for section in ("deploy", "boot"):
        if section not in actions:
            out.add(f"actions.{section}", "required key missing")
            continue
        block = out.mapping(f"actions.{section}", actions[section])
        if block is None:
            continue
        if "methods" not in block:
            out.add(f"actions.{section}.methods", "required key missing")
        else:
            out.mapping(f"actions.{section}.methods", block["methods"])
        for key in ("connections", "parameters"):
            if key in block:
                out.mapping(f"actions.{section}.{key}", block[key], allow_none=True)
    if "test" in actions:
        out.mapping("actions.test", actions["test"], allow_none=True)


def _check_timeouts(out: _Collector, value: Any) -> None:
    timeouts = out.mapping("timeouts", value)
    if timeouts is None:
        return
    for group in ("actions", "connections"):
        if group not in timeouts:
            continue
        entries = out.mapping(f"timeouts.{group}", timeouts[group], allow_none=True)
        for name, timeout in (entries or {}).items():
            _check_timeout(out, f"timeouts.{group}.{name}", timeout)


def _check_timeout(out: _Collector, path: str, value: Any) -> None:
    timeout = out.mapping(path, value)
    if timeout is None:
        return
    units = [unit for unit in UNITS if unit in timeout]
    if not units:
        out.add(path, f"expected one of {', '.join(UNITS)}")
    for unit in units:
        out.check(f"{path}.{unit}", timeout[unit], _is_non_negative_int)
    if "skip" in timeout:
        out.check(f"{path}.skip", timeout["skip"], _is_bool)
    for key in timeout:
        if key not in UNITS and key != "skip":
            out.add(f"{path}.{key}", f"unknown timeout unit; use {', '.join(UNITS)} (and skip)")


def _check_ssh_primary(out: _Collector, data: dict[str, Any]) -> None:
    actions = data.get("actions")
    deploy = actions.get("deploy") if isinstance(actions, dict) else None
    methods = deploy.get("methods") if isinstance(deploy, dict) else None
    ssh = methods.get("ssh") if isinstance(methods, dict) else None
    if not (isinstance(ssh, dict) and ssh.get("host")):
        return
    commands = data.get("commands")
    for key in SSH_FORBIDS:
        if isinstance(commands, dict) and key in commands:
            out.add(f"commands.{key}", "not allowed on a primary ssh device (actions.deploy.methods.ssh.host is set)")
