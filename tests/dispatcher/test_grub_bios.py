"""The BIOS GRUB board: SeaBIOS + the iPXE ROM of its card load GRUB (i386-pc) over TFTP; ``boot: method: grub``.

The board is the virtual iPXE PC of test_ipxe.py whose DHCP answer names
GRUB's PXE image (``share/test-images/build-grub-pxe.sh``, copied into the
TFTP root as a lab would). GRUB shows its menu on the serial line; the
dispatcher presses ``c`` and types the ``ramdisk`` commands of our ``x86``
device type. QEMU's user network is the TFTP server: QEMU gone means both gone.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from testimages import PROMPT_REGEX, grub_pxe_tree, images

from .helpers import job_result, results, run_lava
from .qemu_jobs import inline
from .test_ipxe import DISPATCHER, board_gone, inputs, ipxe_board, render_device, require_board, x86_64_deploy


def grub_board(tmp_path: Path, with_grub: bool = True) -> tuple[Path, str]:
    require_board()
    tree = grub_pxe_tree()
    images()
    if with_grub:
        shutil.copytree(tree / "boot", tmp_path / "tftp" / "boot")
    return render_device(tmp_path, extra=ipxe_board.GRUB_PC_LINES, bootfile=ipxe_board.GRUB_PXE_BOOTFILE)


def grub_job(actions: list[dict], job_minutes: int, connection_seconds: int) -> dict:
    return {"job_name": "grub bios", "device_type": "x86", "visibility": "public",
            "timeouts": {"job": {"minutes": job_minutes}, "action": {"minutes": 4},
                         "connection": {"seconds": connection_seconds}},
            "actions": [x86_64_deploy(), {"boot": {"method": "grub", "commands": "ramdisk", "prompts": [PROMPT_REGEX]}},
                        *actions]}


@pytest.mark.qemu
def test_grub_from_the_pxe_rom_boots_a_ramdisk_and_runs_tests(tmp_path):
    device, state = grub_board(tmp_path)
    job = grub_job([{"test": {"timeout": {"minutes": 3}, "definitions": [inline("smoke", [
        "lava-test-case kernel --shell uname -r",
        "lava-test-case bios --shell test ! -d /sys/firmware/efi",  # booted by SeaBIOS, not UEFI
        "lava-test-case ramdisk-root --shell grep -q root=/dev/ram0 /proc/cmdline",
    ])]}}], job_minutes=10, connection_seconds=120)
    proc, records, _ = run_lava(tmp_path, job, device, dispatcher_extra=DISPATCHER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    typed = inputs(records)
    assert typed[:2] == ["'c'", "net_bootp"], typed  # the menu's countdown stopped, then GRUB's command line
    assert any(i.startswith("linux (tftp,10.0.2.2)/") and "/kernel/bzImage " in i and "console=ttyS0,115200n8" in i
               for i in typed), typed
    assert any(i.startswith("initrd (tftp,10.0.2.2)/") and "/ramdisk/" in i for i in typed), typed
    assert typed[typed.index("net_bootp") + 3] == "boot"
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "kernel")] == "pass"
    assert found[("0_smoke", "bios")] == "pass"
    assert found[("0_smoke", "ramdisk-root")] == "pass"
    assert job_result(records)["result"] == "pass"
    assert board_gone(state)  # QEMU, and with it the TFTP server of its user network
    assert sorted(p.name for p in (tmp_path / "tftp").iterdir()) == ["boot"]  # the job's files are gone


@pytest.mark.qemu
def test_a_board_whose_grub_never_comes_ends_incomplete_in_its_timeout(tmp_path):
    """The TFTP root has no GRUB: the ROM finds no file and SeaBIOS waits; the job stops at its connection timeout."""
    device, state = grub_board(tmp_path, with_grub=False)
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, grub_job([], job_minutes=2, connection_seconds=25), device,
                                dispatcher_extra=DISPATCHER)
    assert time.monotonic() - started < 100
    assert proc.returncode != 0
    result = job_result(records)
    assert (result["result"], result["error_type"]) == ("fail", "Infrastructure"), result
    assert "the GRUB prompt 'grub>': timed out after 25 seconds waiting for" in result["error_msg"], result
    assert "iPXE" in "\n".join(str(r["msg"]) for r in records if r["lvl"] == "target")  # the ROM's tries are logged
    assert board_gone(state)
