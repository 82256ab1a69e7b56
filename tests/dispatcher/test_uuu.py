"""``deploy: to: uuu`` and ``boot: method: uuu`` with stand-in ``uuu``/``bcu`` tools and a scripted U-Boot console.

The device is rendered from our imx8dxl-evk.jinja2. Its U-Boot (scripted_console.py) erases the
boot media with the dictionary's commands; the tools are shell scripts on PATH that record their
arguments, so the test checks the command lines and the power sequence; the reference's uuu
samples are validated against our templates.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_config

from .helpers import CORPUS, HERE, REPO, job_result, run_lava

SAMPLES = ["uuu-bootimage-only.yaml", "uuu_bcu_only.yaml", "uuu_enhancement.yaml", "uuu_skip.yaml"]


def evk_device(tmp_path: Path, console: str, power_log: Path | None = None) -> Path:
    power = (f"{{% set power_on_command = 'echo on >> {power_log}' %}}\n"
             f"{{% set power_off_command = 'echo off >> {power_log}' %}}\n") if power_log else (
        "{% set power_on_command = 'true' %}\n{% set power_off_command = 'true' %}\n")
    dictionary = ("{% extends 'imx8dxl-evk.jinja2' %}\n"
                  f"{{% set connection_command = {console!r} %}}\n{power}"
                  "{% set bcu_board_id = '2-1.3' %}\n"
                  "{% set uuu_usb_otg_path_command = ['echo', '-n', '12:123'] %}\n"
                  "{% set uuu_corrupt_boot_media_command = ['mmc dev 1', 'mmc erase 0 0x400'] %}\n")
    config = render_device_config("imx8dxl-evk-01", dictionary, device_types_paths=[REPO / "device-types"])
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def uuu_job(image: str, commands: list[dict]) -> dict:
    return {"job_name": "uuu", "device_type": "imx8dxl-evk", "visibility": "public",
            "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 20}},
            "actions": [{"deploy": {"to": "uuu", "images": {"boot": {"url": image}}}},
                        {"boot": {"method": "uuu", "commands": commands}}]}


def test_uuu_erases_the_boot_media_powers_on_and_runs_the_tools(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tools_log = tmp_path / "tools.log"
    for tool in ("uuu", "bcu"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {tools_log}\n')
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    typed, power = tmp_path / "typed.log", tmp_path / "power.log"
    script = tmp_path / "uboot.json"
    script.write_text(json.dumps({
        "banner": "U-Boot 2023.04\r\nHit any key to stop autoboot:  2", "interrupt": True, "prompt": "=> ",
        "boot_command": "^never$", "boot_output": "", "shell_prompt": "", "log": str(typed),
    }))
    (tmp_path / "imx-boot.bin").write_bytes(b"boot image")
    device = evk_device(tmp_path, f"{sys.executable} {HERE / 'scripted_console.py'} {script}", power)
    job = uuu_job(f"file://{tmp_path / 'imx-boot.bin'}",
                  [{"bcu": "reset usb"}, {"uuu": "-b sd {boot}"}, {"bcu": "set_boot_mode sd"}])
    proc, records, _ = run_lava(tmp_path, job, device, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert job_result(records)["result"] == "pass"
    assert typed.read_text().splitlines() == ["interrupt: 20", "mmc dev 1", "mmc erase 0 0x400"]
    assert power.read_text().split()[:4] == ["off", "on", "off", "on"]
    lines = tools_log.read_text().splitlines()
    assert lines[0] == "bcu reset usb -id=2-1.3" and lines[2] == "bcu set_boot_mode sd -id=2-1.3"
    assert lines[1].startswith("uuu -m 12:123 -b sd /") and lines[1].endswith("/downloads/boot/imx-boot.bin")


@pytest.mark.parametrize(("commands", "error"), [
    ([{"uuu": "-b sd {rootfs}"}], "commands[0].uuu: '{rootfs}' is no image of the uuu deploy (boot)"),
    ([{"uuu": "-b sd /etc/shadow"}], "commands[0].uuu: '/etc/shadow' names a worker path"),
    ([{"uuu": "-b sd ../../x"}], "commands[0].uuu: '../../x' names a worker path"),
    ([{"fastboot": "flash"}], "commands[0]: one of uuu or bcu"),
])
def test_uuu_commands_are_checked(tmp_path: Path, commands: list, error: str) -> None:
    proc, records, _ = run_lava(tmp_path, uuu_job("http://images.example/imx-boot.bin", commands),
                                evk_device(tmp_path, "telnet localhost 7000"), "--validate")
    assert proc.returncode == 1 and error in job_result(records)["error_msg"]


@pytest.mark.parametrize("name", SAMPLES)
def test_reference_uuu_samples_validate(tmp_path: Path, name: str) -> None:
    paths = list((CORPUS / "jobs").glob(f"*/{name}"))
    if not paths:
        pytest.skip("../shared/corpus is not there")
    proc, records, _ = run_lava(tmp_path, paths[0], evk_device(tmp_path, "telnet localhost 7000"), "--validate")
    assert proc.returncode == 0, job_result(records) if records else proc.stderr[-1500:]
