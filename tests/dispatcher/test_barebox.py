"""``boot: method: barebox`` on a scripted barebox console, and the reference's barebox samples validating.

The device is rendered from our beaglebone-black-barebox.jinja2; its console is
scripted_console.py speaking as barebox does (autoboot banner, ``barebox@<board>:/ `` prompt,
``bootm`` hands over to the kernel).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_config

from .helpers import CORPUS, HERE, REPO, job_result, run_lava

BANNER = ("barebox 2024.01.0 #1 Mon Jan 1 00:00:00 UTC 2024\r\nBoard: TI AM335x BeagleBone black\r\n"
          "Hit m for menu or any other key to stop autoboot:    3")
PROMPT = "barebox@TI AM335x BeagleBone black:/ "


def barebox_device(tmp_path: Path, console: str) -> Path:
    dictionary = ("{% extends 'beaglebone-black-barebox.jinja2' %}\n"
                  f"{{% set connection_command = {console!r} %}}\n"
                  "{% set power_on_command = 'true' %}\n{% set power_off_command = 'true' %}\n"
                  "{% set hard_reset_command = 'true' %}\n")
    config = render_device_config("bbb-barebox-01", dictionary, device_types_paths=[REPO / "device-types"])
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_barebox_interrupts_types_the_ramdisk_list_and_logs_in(tmp_path: Path) -> None:
    log = tmp_path / "typed.log"
    script = tmp_path / "barebox.json"
    script.write_text(json.dumps({
        "banner": BANNER, "interrupt": True, "prompt": PROMPT, "boot_command": "^bootm$",
        "boot_output": "Loading ARM Linux zImage\r\nStarting kernel ...\r\n\r\nLinux version 6.1.0\r\nbbb login: ",
        "login": "root", "shell_prompt": "root@bbb:~# ", "log": str(log),
    }))
    device = barebox_device(tmp_path, f"{sys.executable} {HERE / 'scripted_console.py'} {script}")
    job = {"job_name": "barebox", "device_type": "beaglebone-black-barebox", "visibility": "public",
           "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 20}},
           "actions": [{"boot": {"method": "barebox", "commands": "ramdisk", "prompts": ["root@bbb:~# "],
                                 "auto_login": {"login_prompt": "login:", "username": "root"}}}]}
    proc, records, _ = run_lava(tmp_path, job, device, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert job_result(records)["result"] == "pass"
    typed = log.read_text().splitlines()
    # the interrupt is one space; the list's commands naming a deployed file (none here) are dropped
    assert typed[:4] == ["interrupt: 20", "dhcp",
                         "global.linux.bootargs.dyn.root='console=ttyO0,115200n8 root=/dev/ram0 ip=dhcp'", "bootm"]
    assert typed[4] == "root"


SAMPLES = ["barebox.yaml", "barebox-ramdisk.yaml", "barebox-ramdisk-inline-commands.yaml"]


@pytest.mark.parametrize("name", SAMPLES)
def test_reference_barebox_samples_validate(tmp_path: Path, name: str) -> None:
    path = CORPUS / "jobs" / "dispatcher" / name
    if not path.exists():
        pytest.skip("../shared/corpus is not there")
    device = barebox_device(tmp_path, "telnet localhost 7000")
    proc, records, _ = run_lava(tmp_path, path, device, "--validate")
    assert proc.returncode == 0, job_result(records) if records else proc.stderr[-1500:]
