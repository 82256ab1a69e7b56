"""The reference's interrupt rules, on a fake bootloader shell (fake_bootloader.py) through lava-run;
``minimal``'s hard reset and pre-power/pre-os commands on a fake board.

The real bootloaders are in test_ipxe.py (iPXE, Ctrl-B) and test_uboot.py (U-Boot, a space).
"""

from __future__ import annotations

import sys

import pytest
import yaml

from .helpers import HERE, results, run_lava

BOARD = f"{sys.executable} {HERE / 'fake_bootloader.py'}"


def device(tmp_path, constants: dict, parameters: dict | None = None):
    config = {
        "hostname": "fake-bl-01", "devicetype": "fake", "constants": {"failure_retry": 1, "fakebl": constants},
        "character_delays": {"boot": 5},
        "commands": {"connect": BOARD, "power_on": "true", "power_off": "true"},
        "parameters": {},
        "actions": {"deploy": {"methods": {}}, "boot": {"methods": {"fakebl": {"parameters": {
            "bootloader_prompt": "fake=>", "interrupt_prompt": "Press any key to stop autoboot", **(parameters or {})}}}}},
        "timeouts": {"actions": {}, "connections": {}},
    }
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def job() -> dict:
    script = [{"name": "echo", "command": "printenv", "successes": [{"message": "got: printenv"}]}]
    return {"job_name": "interrupt rules", "device_type": "fake", "visibility": "public",
            "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 20}},
            "actions": [
                {"boot": {"method": "bootloader", "bootloader": "fakebl", "commands": ["version"]}},
                {"test": {"interactive": [{"name": "fake", "prompts": ["fake=>"], "script": script}]}},
            ]}


@pytest.mark.parametrize("constants,parameters,sent", [
    ({"interrupt-character": "x"}, None, "78"),
    ({"interrupt-character": "x", "interrupt-newline": True}, None, "780a"),
    ({"interrupt_ctrl_list": ["c"]}, None, "03"),
    ({"interrupt-character": "x"}, {"interrupt_ctrl_list": ["b"]}, "02"),
    ({"interrupt-character": "x"}, {"needs_interrupt": False}, ""),
], ids=["character", "with a newline", "control list", "method parameters win", "no interrupt"])
def test_interrupt_rules(tmp_path, constants, parameters, sent):
    proc, records, _ = run_lava(tmp_path, job(), device(tmp_path, constants, parameters), timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    target = [r["msg"] for r in records if r["lvl"] == "target"]
    assert f"interrupt: {sent}" in target
    assert "got: version" in target
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_fake", "echo")] == "pass"


def test_minimal_hard_reset_with_pre_power_and_pre_os_commands(tmp_path):
    """``minimal``: pre-power, the dictionary's hard_reset (not power_off/power_on), pre-os; no prompts, no login."""
    log = tmp_path / "power.log"
    config = yaml.safe_load((HERE / "devices" / "fake-board.yaml").read_text())
    config["commands"].update({
        name: f"echo {name} >> {log}" for name in ("hard_reset", "power_on", "pre_power_command", "pre_os_command")})
    (tmp_path / "device.yaml").write_text(yaml.safe_dump(config))
    job = {"job_name": "minimal reset", "device_type": "fake", "visibility": "public",
           "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 20}},
           "actions": [{"boot": {"method": "minimal", "reset": True, "pre_power_command": True,
                                 "pre_os_command": True}}]}
    proc, _, _ = run_lava(tmp_path, job, tmp_path / "device.yaml", timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert log.read_text().split() == ["pre_power_command", "hard_reset", "pre_os_command"]
