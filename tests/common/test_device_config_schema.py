"""lava_common.schemas.device: every problem reported with its path."""

import copy

import pytest

from lava_common.schemas.device import DeviceSchemaError, validate_device

VALID = {
    "constants": {"kernel-start-message": "Linux version", "failure_retry": 1,
                  "u-boot": {"interrupt-prompt": "Hit any key", "error-messages": ["TIMEOUT"]}},
    "commands": {"connect": "telnet h 7001", "power_on": ["a", "b"], "hard_reset": "c",
                 "connections": {"uart0": {"connect": "telnet h 7002", "tags": ["primary"]}},
                 "users": {"touch": {"do": "touch x", "undo": "rm x"}}},
    "parameters": {"pass": None, "bootz": {"kernel": "0x82000000"}},
    "actions": {"deploy": {"methods": {"tftp": None}, "connections": {"serial": None}},
                "boot": {"methods": {"u-boot": {}}, "connections": None}},
    "timeouts": {"actions": {"power-off": {"seconds": 10}}, "connections": {"x": {"minutes": 1, "skip": True}}},
    "character_delays": {"boot": 5},
    "usb_vendor_id": "0525",
    "some_extra_key": {"anything": 1},
}


def errors_of(data: dict) -> list[str]:
    with pytest.raises(DeviceSchemaError) as err:
        validate_device(data)
    assert isinstance(err.value, ValueError)
    return err.value.errors


def changed(path: str, value: object) -> dict:
    data = copy.deepcopy(VALID)
    *parents, last = path.split("/")
    target = data
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


def test_valid_config_with_extra_keys_passes() -> None:
    validate_device(VALID)
    validate_device({**VALID, "commands": None})


@pytest.mark.parametrize("key", ["constants", "parameters", "actions", "timeouts"])
def test_required_keys(key: str) -> None:
    assert errors_of(changed(key, KeyError)) == [f"{key}: required key missing"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("constants", [], "constants: expected a mapping"),
        ("constants/failure_retry", "1", "constants.failure_retry: expected an integer"),
        ("constants/u-boot/error-messages", "TIMEOUT", "constants.u-boot.error-messages: expected a list of strings"),
        ("commands/power_on", 3, "commands.power_on: expected a string or a list of strings"),
        ("commands/connect", ["a"], "commands.connect: expected a string"),
        ("commands/connections/uart0", {"tags": []}, "commands.connections.uart0.connect: required key missing"),
        ("commands/users/touch", {"undo": "x"}, "commands.users.touch.do: required key missing"),
        ("parameters/bootz", "0x1", "parameters.bootz: expected a mapping"),
        ("actions/deploy", {"connections": {}}, "actions.deploy.methods: required key missing"),
        ("actions/boot", KeyError, "actions.boot: required key missing"),
        ("actions/boot/methods", ["u-boot"], "actions.boot.methods: expected a mapping"),
        ("timeouts/actions/power-off", {"sec": 1}, "timeouts.actions.power-off: expected one of days, hours, minutes, seconds"),
        ("timeouts/actions/power-off", {"seconds": -1}, "timeouts.actions.power-off.seconds: expected an integer >= 0"),
        ("character_delays/boot", "5", "character_delays.boot: expected an integer"),
        ("usb_vendor_id", "05251", "usb_vendor_id: expected a string of 4 characters"),
        ("available_architectures", "arm64", "available_architectures: expected a list of strings"),
        ("fastboot_via_uboot", "yes", "fastboot_via_uboot: expected true or false"),
        ("static_info", {"a": 1}, "static_info: expected a list of mappings"),
    ],
)
def test_errors_carry_the_path(path: str, value: object, expected: str) -> None:
    assert expected in errors_of(changed(path, value))


def test_all_errors_are_reported_at_once() -> None:
    data = changed("constants", KeyError)
    data["commands"] = {"power_off": 1}
    assert errors_of(data) == ["constants: required key missing",
                               "commands.power_off: expected a string or a list of strings"]


def test_primary_ssh_device_has_no_power_commands() -> None:
    data = copy.deepcopy(VALID)
    data["actions"]["deploy"]["methods"]["ssh"] = {"host": "dut.lab", "port": 22}
    errors = errors_of(data)
    assert "commands.power_on: not allowed on a primary ssh device (actions.deploy.methods.ssh.host is set)" in errors
    assert any(e.startswith("commands.hard_reset:") for e in errors)
    # an ssh method without a host (a secondary connection) is fine
    data["actions"]["deploy"]["methods"]["ssh"] = {"host": "", "port": 22}
    validate_device(data)


def test_not_a_mapping() -> None:
    assert errors_of([]) == ["device configuration: expected a mapping"]  # type: ignore[arg-type]
