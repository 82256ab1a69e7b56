"""The virtual iPXE board: SeaBIOS + Debian's iPXE ROM in QEMU x86_64, kernel and ramdisk over TFTP.

The device is rendered from our ``x86`` device type, powered by ``virtual-ipxe/power.sh``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from testimages import PROMPT_REGEX, images, require_qemu

from lava_scheduler.device_config import render_device_config

from .helpers import REPO, job_result, results, run_lava
from .qemu_jobs import inline

sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import ipxe_board  # noqa: E402 - share/virtual-lab is not a package

IPXE_ROM = ipxe_board.IPXE_ROM
QEMU_MAC = "52:54:00:12:34:56"  # QEMU's first NIC
DISPATCHER = {"dispatcher_ip": "10.0.2.2"}  # QEMU user networking: the host, where tftp= serves from


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_device(tmp_path: Path, rom: str = str(IPXE_ROM), extra: str = "", bootfile: str = "") -> tuple[Path, str]:
    """An x86 device whose outlet is power.sh (``extra``: more dictionary lines; ``bootfile``: what DHCP names
    for the ROM to run); returns its file and the board's state dir."""
    state, port = tmp_path / "board", _free_port()
    dictionary = ipxe_board.dictionary(state, tmp_path / "tftp", port, rom, bootfile) + extra
    config = render_device_config("ipxe-x86-01", dictionary, None, device_types_paths=[REPO / "device-types"])
    device = tmp_path / "device.yaml"
    device.write_text(yaml.safe_dump(config))
    return device, str(state)


def deploy(kernel: Path, ramdisk: Path) -> dict:
    return {"deploy": {"to": "tftp", "kernel": {"url": f"file://{kernel}"}, "ramdisk": {"url": f"file://{ramdisk}"}}}


def x86_64_deploy() -> dict:
    return deploy(images().x86_64.kernel, images().x86_64.initramfs)


def ipxe_job(actions: list[dict], minutes: int = 8) -> dict:
    return {"job_name": "ipxe", "device_type": "x86", "visibility": "public",
            "timeouts": {"job": {"minutes": minutes}, "action": {"minutes": 3}}, "actions": actions}


def inputs(records: list[dict]) -> list[str]:
    return [r["msg"] for r in records if r["lvl"] == "input"]


def board_gone(state: str) -> bool:
    return subprocess.run(["pgrep", "-f", state], capture_output=True).returncode != 0


def require_board() -> None:
    require_qemu("x86_64")
    if not IPXE_ROM.exists():
        pytest.skip("ipxe-qemu is not installed (share/ci/setup-host.sh)")


# -- without a board: what validation refuses (the pipelines are in golden/ipxe.yaml, golden/bootloader-ipxe.yaml)


@pytest.mark.parametrize("block,message", [
    ({"method": "ipxe", "commands": "usb"}, "commands 'usb' are not defined for this device (known: nbd, nfs, ramdisk)"),
    ({"method": "bootloader", "bootloader": "u-boot", "commands": ["help"]},
     "the device does not support bootloader 'u-boot'"),
])
def test_refused_blocks_name_the_cause(tmp_path, block, message):
    device, _ = render_device(tmp_path)
    job = ipxe_job([deploy(Path("/images/bzImage"), Path("/images/ramdisk.cpio.gz")), {"boot": {**block, "prompts": ["# "]}}])
    proc, records, _ = run_lava(tmp_path, job, device, "--validate", dispatcher_extra=DISPATCHER)
    assert proc.returncode != 0
    assert message in proc.stderr


# -- on the board


@pytest.mark.qemu
def test_commands_typed_at_the_ipxe_prompt_boot_and_run_tests(tmp_path):
    require_board()
    device, state = render_device(tmp_path)
    check_mac = f"grep -q lava_mac={QEMU_MAC} /proc/cmdline"
    job = ipxe_job([
        x86_64_deploy(),
        {"boot": {"method": "ipxe", "commands": "ramdisk", "prompts": [PROMPT_REGEX]}},
        {"test": {"timeout": {"minutes": 3}, "definitions": [
            inline("smoke", ["lava-test-case kernel --shell uname -r", f"lava-test-case lava-mac --shell {check_mac}"])]}},
    ])
    proc, records, _ = run_lava(tmp_path, job, device, dispatcher_extra=DISPATCHER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    typed = inputs(records)
    assert "Ctrl-B" in typed and "dhcp net0" in typed
    assert any(i.startswith("kernel tftp://10.0.2.2/") and i.endswith("/kernel/bzImage ${extraargs} ${console}")
               for i in typed)
    assert "set console console=ttyS0,115200n8 lava_mac=${netX/mac}" in typed
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "kernel")] == "pass"
    assert found[("0_smoke", "lava-mac")] == "pass"
    assert job_result(records)["result"] == "pass"
    assert board_gone(state)
    assert list((tmp_path / "tftp").iterdir()) == []


@pytest.mark.qemu
def test_the_generic_bootloader_method_stops_at_the_ipxe_prompt(tmp_path):
    """``method: bootloader`` types its commands at iPXE> and boots nothing: the interactive test talks to iPXE."""
    require_board()
    device, state = render_device(tmp_path)
    job = ipxe_job([
        {"boot": {"method": "bootloader", "bootloader": "ipxe", "commands": ["dhcp net0"]}},
        {"test": {"interactive": [{"name": "ipxe-shell", "prompts": ["iPXE>"], "script": [
            {"name": "mac", "command": "echo lava-${netX/mac}", "successes": [{"message": f"lava-{QEMU_MAC}"}]}]}]}},
    ], minutes=3)
    proc, records, _ = run_lava(tmp_path, job, device, dispatcher_extra=DISPATCHER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert inputs(records)[:2] == ["Ctrl-B", "dhcp net0"]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_ipxe-shell", "mac")] == "pass"
    assert board_gone(state)


@pytest.mark.qemu
def test_use_bootscript_chains_the_commands_as_a_script_over_tftp(tmp_path):
    require_board()
    device, state = render_device(tmp_path)
    job = ipxe_job([
        x86_64_deploy(),
        {"boot": {"method": "ipxe", "commands": "ramdisk", "use_bootscript": True, "prompts": [PROMPT_REGEX]}},
        {"test": {"timeout": {"minutes": 3}, "definitions": [
            inline("smoke", ["lava-test-case mac --shell grep -q lava_mac=" + QEMU_MAC + " /proc/cmdline"])]}},
    ])
    proc, records, _ = run_lava(tmp_path, job, device, dispatcher_extra=DISPATCHER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    typed = inputs(records)
    assert typed[1] == "dhcp net0", typed
    assert typed[2].startswith("chain tftp://10.0.2.2/") and typed[2].endswith("/script.ipxe"), typed
    assert not any(i.startswith("kernel ") for i in typed)  # the script carried them
    logged = "\n".join(str(r["msg"]) for r in records if r["lvl"] == "target")
    assert "script.ipxe... ok" in logged
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "mac")] == "pass"
    assert job_result(records)["result"] == "pass"
    assert board_gone(state)


@pytest.mark.qemu
def test_a_board_without_ipxe_ends_incomplete_naming_the_prompt(tmp_path):
    require_board()
    device, state = render_device(tmp_path, rom="none")  # SeaBIOS finds no boot ROM on the card
    job = ipxe_job([x86_64_deploy(), {"boot": {"method": "ipxe", "commands": "ramdisk",
                                                        "prompts": [PROMPT_REGEX]}}], minutes=3)
    job["timeouts"]["connections"] = {"bootloader-interrupt": {"seconds": 15}}
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, device, dispatcher_extra=DISPATCHER)
    assert time.monotonic() - started < 90
    assert proc.returncode != 0
    result = job_result(records)
    assert result["result"] == "fail"
    assert "ipxe interrupt prompt 'Press Ctrl-B for the iPXE command line'" in result["error_msg"], result
    assert result["error_type"] == "Infrastructure", result
    assert board_gone(state)
