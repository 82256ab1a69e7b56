"""The x86 UEFI server: OVMF netboots GRUB EFI over TFTP, power through ipmitool -> ipmi_sim -> QEMU.

The board is the lab's own (``share/virtual-lab/uefi_board.py``), wired as the
lab wires it (``uefi_server.py``: a pty pair for the serial cable, ipmi_sim); the device configuration is rendered from our
``grub-x86`` template with the lab's dictionary lines.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml
from testimages import LOGIN_PROMPT, PASSWORD, PASSWORD_PROMPT, PROMPT_REGEX, USERNAME, images

from lava_scheduler.device_config.render import render_device_yaml

from .helpers import REPO, job_result, results, run_lava
from .qemu_jobs import inline

sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import ipmi_bmc  # noqa: E402
import uefi_board  # noqa: E402
from processes import processes_naming  # noqa: E402
from uefi_server import UefiServer  # noqa: E402


def device_for(server: UefiServer, tmp_path: Path, *, password: str | None = None,
               lan_port: int | None = None) -> Path:
    """The lab's dictionary lines for the server (share/lab/catalog.py), rendered from grub-x86."""
    ipmi = server.bmc.ipmitool("").rsplit(" ", 1)[0]
    if password is not None:
        ipmi = ipmi.replace(f"-P {server.bmc.password}", f"-P {password}")
    if lan_port is not None:
        ipmi = ipmi.replace(f"-p {server.bmc.lan_port}", f"-p {lan_port}")
    dictionary = server.dictionary(ipmitool=ipmi)
    path = tmp_path / "device.yaml"
    path.write_text(render_device_yaml("uefi-t", dictionary))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    reason = uefi_board.missing()
    if reason:
        pytest.skip(reason)
    if images() is None:
        pytest.skip("test images are not available")
    server = UefiServer(tmp_path_factory.mktemp("uefi-server"), name="uefi-t")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert server.leftovers() == {}, "a process of the server outlived the test"


def logged_target(records: list[dict]) -> str:
    return "\n".join(str(r["msg"]) for r in records if r["lvl"] == "target")


def grub_job(definitions=None, method: str = "grub-efi") -> dict:
    imgs = images().x86_64
    actions = [
        {"deploy": {"to": "tftp", "kernel": {"url": f"file://{imgs.kernel}"},
                    "ramdisk": {"url": f"file://{imgs.initramfs_login}"}}},
        {"boot": {"method": method, "commands": "ramdisk", "prompts": [PROMPT_REGEX],
                  "auto_login": {"login_prompt": LOGIN_PROMPT, "username": USERNAME,
                                 "password_prompt": PASSWORD_PROMPT, "password": PASSWORD}}},
    ]
    if definitions:
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": definitions}})
    return {"job_name": f"{method} tftp", "device_type": "grub-x86", "visibility": "public",
            "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 4}, "connection": {"minutes": 2}},
            "actions": actions}


@pytest.mark.qemu
def test_bmc_switches_the_server_like_a_rack_server(server):
    """ipmitool -> ipmi_sim -> QEMU: status, on, reset (same QEMU, rebooted), off (QEMU gone)."""
    assert "Chassis Power is off" in server.ipmitool("status").stdout
    assert server.ipmitool("on").returncode == 0
    deadline = time.monotonic() + 20
    while "is on" not in server.ipmitool("status").stdout:
        assert time.monotonic() < deadline, "the BMC never reported the server on"
        time.sleep(0.5)
    pids = server.qemu_pids()
    assert len(pids) == 1
    # ipmi_sim refuses a reset ("Invalid data field") until the starting QEMU has attached to it
    deadline = time.monotonic() + 20
    while server.ipmitool("reset").returncode != 0:
        assert time.monotonic() < deadline, "the BMC never accepted a reset"
        time.sleep(0.5)
    assert server.qemu_pids() == pids  # a reset reboots the machine, it does not replace it
    assert server.ipmitool("off").returncode == 0
    deadline = time.monotonic() + 20
    while server.qemu_pids() or "is off" not in server.ipmitool("status").stdout:
        assert time.monotonic() < deadline, "the server did not power off"
        time.sleep(0.5)
    refused = server.ipmitool("status", password="wrong")
    assert refused.returncode != 0


@pytest.mark.qemu
def test_grub_efi_boots_over_tftp_to_a_test_shell(server, tmp_path):
    job = grub_job([inline("smoke", ["lava-test-case kernel --shell uname -r",
                                     "lava-test-case efi --shell test -d /sys/firmware/efi"])])
    # the worker's tftp_root is the one the server's QEMU serves, as in the lab
    dispatcher = {"dispatcher_ip": "10.0.2.2", "tftp_root": str(server.board.tftp_root)}
    proc, records, _ = run_lava(tmp_path, job, device_for(server, tmp_path), dispatcher_extra=dispatcher)
    assert proc.returncode == 0, proc.stderr[-3000:]
    inputs = [r["msg"] for r in records if r["lvl"] == "input"]
    assert "net_bootp" in inputs
    assert "grub>" in logged_target(records)
    assert any(i.startswith("linux (tftp,10.0.2.2)/") and i.endswith(" ip=dhcp") and "/kernel/" in i for i in inputs)
    assert any(i.startswith("initrd (tftp,10.0.2.2)/") for i in inputs)
    logged = "\n".join(str(r["msg"]) for r in records)
    assert "ipmitool" in logged and "-P ****" in logged and server.bmc.password not in logged
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "kernel")] == "pass"
    assert found[("0_smoke", "efi")] == "pass"  # booted by UEFI firmware, not a BIOS
    assert job_result(records)["result"] == "pass"
    # the job powered the server off through the BMC: no QEMU left, the BMC says off
    assert server.qemu_pids() == []
    assert "is off" in server.ipmitool("status").stdout
    assert sorted(p.name for p in server.board.tftp_root.iterdir()) == ["boot"]  # the job's files are gone


@pytest.mark.parametrize("case", ["wrong password", "unreachable"])
def test_a_bmc_that_refuses_ends_the_job_incomplete_naming_it(server, tmp_path, case):
    if case == "wrong password":
        device, where = device_for(server, tmp_path, password="not-the-password"), f"127.0.0.1:{server.bmc.lan_port}"
    else:
        port = ipmi_bmc.free_port()
        device, where = device_for(server, tmp_path, lan_port=port), f"127.0.0.1:{port}"
    job = grub_job()
    job["timeouts"]["job"] = {"minutes": 2}
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, device)
    assert time.monotonic() - started < 120
    assert proc.returncode != 0
    result = job_result(records)
    assert result["result"] == "fail"
    assert result["error_type"] == "Infrastructure"
    assert f"the BMC {where} refused or did not answer" in result["error_msg"]
    assert "not-the-password" not in "\n".join(str(r["msg"]) for r in records)
    assert server.qemu_pids() == []


def test_a_grub_prompt_that_never_appears_ends_the_job_in_its_timeout(tmp_path):
    device = yaml.safe_load(render_device_yaml("silent-grub", (
        "{% extends 'grub-x86.jinja2' %}\n"
        "{% set connection_command = \"sh -c 'echo BdsDxe: failed to load Boot0001; sleep 1000'\" %}\n"
        "{% set power_on_command = 'true' %}\n{% set power_off_command = 'true' %}\n")))
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(device))
    job = grub_job()
    job["timeouts"] = {"job": {"minutes": 2}, "action": {"minutes": 1}, "connection": {"seconds": 5}}
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, path)
    assert time.monotonic() - started < 60
    result = job_result(records)
    assert (result["result"], result["error_type"]) == ("fail", "Infrastructure")  # the board's, not the job's
    assert "the GRUB prompt 'grub>'" in result["error_msg"]
    assert processes_naming("BdsDxe") == {}


def shell_device(server: UefiServer, tmp_path: Path) -> Path:
    ipmi = server.bmc.ipmitool("").rsplit(" ", 1)[0]
    device = {
        "hostname": "uefi-shell-t", "devicetype": "uefi-x86",
        "constants": {"kernel-start-message": "Linux version [0-9]", "default-shell-prompt": "lava-test: # ",
                      "failure_retry": 1},
        "commands": {"connect": f"socat STDIO,raw,echo=0 {server.line},raw,echo=0",
                     "power_on": f"{ipmi} on", "power_off": f"{ipmi} off", "hard_reset": f"{ipmi} cycle"},
        "parameters": {},
        "actions": {"deploy": {"methods": {}}, "boot": {"methods": {"uefi": {"parameters": {
            # OVMF's shell counts down before startup.nsh; ESC skips it
            "shell_interrupt_prompt": "startup.nsh", "shell_interrupt_string": "\x1b",
            "bootloader_prompt": "Shell>", "boot_message": "Linux version [0-9]"}}}}},
        "timeouts": {"actions": {}, "connections": {}},
    }
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(device))
    return path


@pytest.mark.qemu
def test_uefi_shell_on_ovmf_starts_the_kernel_and_logs_in(tmp_path):
    """OVMF with no network falls to its built-in shell: stop there, start the kernel's EFI stub from a disk."""
    reason = uefi_board.missing()
    if reason:
        pytest.skip(reason)
    imgs = images().x86_64
    disk = tmp_path / "disk" / "efi"
    disk.mkdir(parents=True)
    (disk / "bzImage").write_bytes(imgs.kernel.read_bytes())
    (disk / "initrd.gz").write_bytes(imgs.initramfs_login.read_bytes())
    server = UefiServer(tmp_path / "server", name="uefi-shell-t")
    config, board = server.config, server.board
    qemu = [
        "qemu-system-x86_64", "-name", f"uefi-shell-{tmp_path.name}", "-machine", "q35", "-accel", "tcg",
        "-m", "512", "-display", "none", "-monitor", "none", "-no-user-config", "-nic", "none",
        "-drive", f"if=pflash,format=raw,readonly=on,file={uefi_board.OVMF_CODE}",
        "-drive", f"if=pflash,format=raw,file={uefi_board.firmware_vars(config, board)}",
        # the disk is a folder, seen by the firmware as a FAT volume (FS0:)
        "-drive", f"file=fat:ro:{disk.parent},format=raw,if=virtio,readonly=on",
        "-chardev", f"serial,id=s0,path={config.uart(board)}", "-serial", "chardev:s0",
        "-pidfile", str(config.outlet_file(board, "pid")), *server.bmc.qemu_args(),
    ]
    server.start(qemu)
    try:
        job = {"job_name": "uefi shell", "device_type": "uefi-x86", "visibility": "public",
               "timeouts": {"job": {"minutes": 6}, "action": {"minutes": 4}, "connection": {"minutes": 2}},
               "actions": [{"boot": {
                   "method": "uefi", "shell_menu": "",
                   "commands": [r"fs0:\efi\bzImage initrd=\efi\initrd.gz console=ttyS0"],
                   "prompts": [PROMPT_REGEX],
                   "auto_login": {"login_prompt": LOGIN_PROMPT, "username": USERNAME,
                                  "password_prompt": PASSWORD_PROMPT, "password": PASSWORD}}}]}
        proc, records, _ = run_lava(tmp_path, job, shell_device(server, tmp_path))
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Shell>" in logged_target(records)
        assert job_result(records)["result"] == "pass"
        assert server.qemu_pids() == []  # powered off through the BMC at the end of the job
    finally:
        server.stop()
        assert server.leftovers() == {}
