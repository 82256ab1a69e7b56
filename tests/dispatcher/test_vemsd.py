"""``deploy: to: vemsd`` on a scripted Juno MCC console, and the reference's vemsd samples validating.

The device is rendered from our juno.jinja2; the console is scripted_console.py answering as
the MCC does (autorun message, ``Cmd>`` prompt). No USB disk appears on this worker, so the
run ends at that step with the error that names the disk: what came before (download, unpack,
power-on, autorun stopped, ``usb_on`` typed) is checked on the way.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_config

from .helpers import CORPUS, HERE, REPO, job_result, run_lava

SAMPLES = ["juno-fw.yaml", "juno-uboot-fw-debian.yaml", "juno-uboot-nfs.yaml", "juno-uefi-nfs-no-menu.yaml",
           "juno-uefi-nfs.yaml", "juno-uefi-tftp.yaml"]


def juno_device(tmp_path: Path, console: str, mount_wait: int = 15) -> Path:
    dictionary = ("{% extends 'juno.jinja2' %}\n"
                  f"{{% set connection_command = {console!r} %}}\n"
                  "{% set usb_filesystem_label = 'LAVATESTJUNO' %}\n"
                  "{% set power_on_command = 'true' %}\n{% set power_off_command = 'true' %}\n"
                  "{% set hard_reset_command = 'true' %}\n")
    config = render_device_config("juno-01", dictionary, device_types_paths=[REPO / "device-types"])
    config["actions"]["deploy"]["methods"]["vemsd"]["parameters"]["msd_mount_wait"] = mount_wait
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def vemsd_job(url: str, **block) -> dict:
    return {"job_name": "vemsd", "device_type": "juno", "visibility": "public",
            "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 20}},
            "actions": [{"deploy": {"to": "vemsd", "recovery_image": {"url": url, **block}}}]}


def test_vemsd_stops_the_mcc_and_enables_its_usb_disk(tmp_path: Path) -> None:
    log = tmp_path / "typed.log"
    script = tmp_path / "mcc.json"
    script.write_text(json.dumps({
        "banner": "ARM V2M_Juno Firmware v1.0.1\r\nPress Enter to stop auto boot...", "interrupt": True,
        "prompt": "Cmd> ", "boot_command": "^reboot$", "boot_output": "Juno Development Platform\r\n",
        "shell_prompt": "", "log": str(log),
    }))
    image = tmp_path / "juno-latest.zip"
    with zipfile.ZipFile(image, "w") as archive:
        archive.writestr("config.txt", "TESTMENU: 0\n")
        archive.writestr("SOFTWARE/fip.bin", "firmware")
    device = juno_device(tmp_path, f"{sys.executable} {HERE / 'scripted_console.py'} {script}", mount_wait=1)
    proc, records, _ = run_lava(tmp_path, vemsd_job(f"file://{image}", compression="zip"), device, timeout=60)
    result = job_result(records)
    assert result["result"] == "fail", proc.stderr[-2000:]
    assert ("the MCC's USB disk labelled 'LAVATESTJUNO' did not appear on the worker within 1 s of usb_on"
            in result["error_msg"])
    assert log.read_text().splitlines() == ["interrupt: 0a", "usb_on"]
    assert any("recovery_image: 3 files and folders" in str(r["msg"]) for r in records)


@pytest.mark.parametrize(("block", "error"), [
    ({"compression": "gz"}, "recovery_image: a zip (compression: zip) or a tar archive (archive: tar)"),
    ({}, "recovery_image: a zip (compression: zip) or a tar archive (archive: tar)"),
])
def test_a_recovery_image_that_is_no_archive_is_refused(tmp_path: Path, block: dict, error: str) -> None:
    device = juno_device(tmp_path, "telnet localhost 7000")
    proc, records, _ = run_lava(tmp_path, vemsd_job("http://images.example/fw.img", **block), device, "--validate")
    assert proc.returncode == 1 and error in job_result(records)["error_msg"]


def test_a_device_without_the_disk_label_is_refused(tmp_path: Path) -> None:
    config = yaml.safe_load(juno_device(tmp_path, "telnet localhost 7000").read_text())
    del config["usb_filesystem_label"]
    (tmp_path / "device.yaml").write_text(yaml.safe_dump(config))
    job = vemsd_job("http://images.example/fw.zip", compression="zip")
    proc, records, _ = run_lava(tmp_path, job, tmp_path / "device.yaml", "--validate")
    assert proc.returncode == 1
    assert "the device has no usb_filesystem_label" in job_result(records)["error_msg"]


@pytest.mark.parametrize("name", SAMPLES)
def test_reference_vemsd_samples_validate(tmp_path: Path, name: str) -> None:
    path = CORPUS / "jobs" / "dispatcher" / name
    if not path.exists():
        pytest.skip("../shared/corpus is not there")
    proc, records, _ = run_lava(tmp_path, path, juno_device(tmp_path, "telnet localhost 7000"), "--validate")
    assert proc.returncode == 0, job_result(records) if records else proc.stderr[-1500:]
