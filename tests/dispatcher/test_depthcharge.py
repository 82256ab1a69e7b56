"""``boot: method: depthcharge`` on a scripted Depthcharge console, and the reference's samples validating.

The device is rendered from our rk3288-veyron-jaq.jinja2 (the device the reference's own unit
tests run its depthcharge samples on); the console is scripted_console.py answering as Depthcharge's
netboot console does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_config

from .helpers import CORPUS, HERE, REPO, job_result, run_lava


def jaq_device(tmp_path: Path, console: str) -> Path:
    dictionary = ("{% extends 'rk3288-veyron-jaq.jinja2' %}\n"
                  f"{{% set connection_command = {console!r} %}}\n"
                  "{% set power_on_command = 'true' %}\n{% set power_off_command = 'true' %}\n"
                  "{% set hard_reset_command = 'true' %}\n")
    config = render_device_config("jaq-01", dictionary, device_types_paths=[REPO / "device-types"])
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_depthcharge_writes_the_command_line_and_types_one_tftpboot(tmp_path: Path) -> None:
    log = tmp_path / "typed.log"
    script = tmp_path / "depthcharge.json"
    script.write_text(json.dumps({
        "banner": "coreboot-v1.9308\r\nStarting netboot on veyron_jaq...", "interrupt": True, "prompt": "dpch: ",
        "boot_command": "^tftpboot ", "boot_output": "Starting kernel ...\r\nLinux version 6.1.0\r\n/ # ",
        "shell_prompt": "/ # ", "log": str(log),
    }))
    (tmp_path / "zImage").write_bytes(b"kernel")
    (tmp_path / "initrd.cpio.gz").write_bytes(b"ramdisk")
    device = jaq_device(tmp_path, f"{sys.executable} {HERE / 'scripted_console.py'} {script}")
    job = {"job_name": "depthcharge", "device_type": "rk3288-veyron-jaq", "visibility": "public",
           "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 20}},
           "actions": [
               {"deploy": {"to": "tftp", "kernel": {"url": f"file://{tmp_path / 'zImage'}", "type": "zimage"},
                           "ramdisk": {"url": f"file://{tmp_path / 'initrd.cpio.gz'}"}}},
               {"boot": {"method": "depthcharge", "commands": "ramdisk", "prompts": ["/ # "]}}]}
    proc, records, _ = run_lava(tmp_path, job, device, timeout=60, dispatcher_extra={"dispatcher_ip": "192.0.2.1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert job_result(records)["result"] == "pass"
    typed = log.read_text().splitlines()
    assert typed[0] == "interrupt: 0a"  # a newline stops the netboot at the dpch prompt
    words = typed[1].split()
    assert words[:2] == ["tftpboot", "192.0.2.1"] and len(words) == 5, typed
    kernel, cmdline, ramdisk = words[2:]
    assert kernel.endswith("/zImage") and ramdisk.endswith("/initrd.cpio.gz") and cmdline.endswith("/cmdline")
    written = [r["msg"] for r in records if "kernel command line written" in str(r["msg"])]
    assert written and written[0].endswith(": console=ttyS2,115200n8 root=/dev/ram0 ip=dhcp"), written


def test_a_named_list_without_a_cmdline_is_refused(tmp_path: Path) -> None:
    config = yaml.safe_load(jaq_device(tmp_path, "telnet localhost 7000").read_text())
    del config["actions"]["boot"]["methods"]["depthcharge"]["ramdisk"]["cmdline"]
    (tmp_path / "device.yaml").write_text(yaml.safe_dump(config))
    job = {"job_name": "depthcharge", "device_type": "rk3288-veyron-jaq", "visibility": "public",
           "timeouts": {"job": {"minutes": 1}},
           "actions": [{"boot": {"method": "depthcharge", "commands": "ramdisk", "prompts": ["/ # "]}}]}
    proc, records, _ = run_lava(tmp_path, job, tmp_path / "device.yaml", "--validate")
    assert proc.returncode == 1
    assert "commands 'ramdisk': the device gives no 'cmdline' for it" in job_result(records)["error_msg"]


@pytest.mark.parametrize("name", ["depthcharge.yaml", "depthcharge_commands_override.yaml"])
def test_reference_depthcharge_samples_validate(tmp_path: Path, name: str) -> None:
    path = CORPUS / "jobs" / "dispatcher" / name
    if not path.exists():
        pytest.skip("../shared/corpus is not there")
    proc, records, _ = run_lava(tmp_path, path, jaq_device(tmp_path, "telnet localhost 7000"), "--validate")
    assert proc.returncode == 0, job_result(records) if records else proc.stderr[-1500:]
