"""The reference's interrupt rules, on a fake bootloader shell (fake_bootloader.py) through lava-run.

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
