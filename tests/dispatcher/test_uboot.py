"""The virtual U-Boot board: real U-Boot in QEMU, kernel and ramdisk over TFTP from the job's TFTP dir."""

import socket
import subprocess

import pytest
import yaml
from testimages import PROMPT_REGEX, images, require_qemu

from .helpers import HERE, job_result, results, run_lava
from .qemu_jobs import inline

POWER = HERE / "virtual-uboot" / "power.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_device(tmp_path) -> tuple:
    text = (HERE / "devices" / "uboot-arm64.yaml").read_text()
    values = {"{POWER}": str(POWER), "{STATE}": str(tmp_path / "board"), "{PORT}": str(_free_port()),
              "{TFTP_ROOT}": str(tmp_path / "tftp")}
    for key, value in values.items():
        text = text.replace(key, value)
    device = tmp_path / "device.yaml"
    device.write_text(text)
    return device, values


def uboot_job(imgs, definitions=None) -> dict:
    actions = [
        {"deploy": {"to": "tftp", "kernel": {"url": f"file://{imgs.kernel}", "type": "image"},
                    "ramdisk": {"url": f"file://{imgs.initramfs}"}}},
        {"boot": {"method": "u-boot", "commands": "ramdisk", "prompts": [PROMPT_REGEX]}},
    ]
    if definitions:
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": definitions}})
    return {"job_name": "u-boot tftp", "device_type": "qemu-uboot-arm64", "visibility": "public",
            "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 3}}, "actions": actions}


def test_rendered_device_keeps_reference_layout(tmp_path):
    device, _ = render_device(tmp_path)
    data = yaml.safe_load(device.read_text())
    assert "tftp" in data["actions"]["deploy"]["methods"]
    assert data["actions"]["boot"]["methods"]["u-boot"]["ramdisk"]["commands"][-1] == "{BOOTX}"


@pytest.mark.qemu
def test_uboot_boots_over_tftp_and_runs_tests(tmp_path):
    require_qemu("arm64")
    if images().uboot_arm64 is None:
        pytest.skip("u-boot-qemu is not installed")
    device, values = render_device(tmp_path)
    dispatcher = {"dispatcher_ip": "10.0.2.2"}  # QEMU user networking: the host, where tftp= serves from
    job = uboot_job(images().arm64, [inline("smoke", ["lava-test-case kernel --shell uname -r"])])
    proc, records, _ = run_lava(tmp_path, job, device, dispatcher_extra=dispatcher)
    assert proc.returncode == 0, proc.stderr[-3000:]
    inputs = [r["msg"] for r in records if r["lvl"] == "input"]
    assert any(i.startswith("tftpboot 0x40400000 ") and i.endswith("/kernel/Image") for i in inputs)
    assert any(i.startswith("booti 0x40400000 0x44000000:") for i in inputs)
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "kernel")] == "pass"
    assert job_result(records)["result"] == "pass"
    # power-off ran: the board is gone, and the job's TFTP dir was removed
    assert subprocess.run(["pgrep", "-f", values["{STATE}"]], capture_output=True).returncode != 0
    assert list((tmp_path / "tftp").iterdir()) == []
