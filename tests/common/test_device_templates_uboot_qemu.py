"""The virtual U-Boot board type, proven on the real thing.

QEMU arm64 `virt` with Debian's U-Boot as firmware; the test plays the
dispatcher's part with nothing but the rendered configuration: interrupt
prompt and character, bootloader prompt, the `ramdisk` command list (its
placeholders filled with the rendered load addresses and the file names), then
the kernel start message and a shell. QEMU's built-in TFTP server (slirp
`tftp=`) serves the kernel and ramdisk at 10.0.2.2.
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from lava_scheduler.device_config import render_device_config

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parents[2]
UBOOT_BIN = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
IMAGES = Path(os.environ.get("LAVA_TEST_IMAGES", Path.home() / ".cache" / "lava" / "test-images")) / "arm64"
DICTIONARY = """{% extends 'qemu-uboot-arm64.jinja2' %}
{% set uboot_tftp_server_ip = '10.0.2.2' %}
{% set extra_kernel_args = 'panic=-1' %}
"""

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not shutil.which("qemu-system-aarch64"), reason="qemu-system-aarch64 not installed"),
    pytest.mark.skipif(not UBOOT_BIN.is_file(), reason="u-boot-qemu not installed"),
    pytest.mark.skipif(not (IMAGES / "Image").is_file() or not (IMAGES / "initramfs.cpio.gz").is_file(),
                       reason="arm64 test images not built (share/test-images/build.sh)"),
]


def fill(command: str, values: dict[str, str]) -> str:
    return re.sub(r"\{[A-Z_]+\}", lambda m: values.get(m.group(0), m.group(0)), command)


def test_rendered_ramdisk_commands_boot_the_virtual_board(tmp_path: Path) -> None:
    config = render_device_config("qemu-uboot-01", DICTIONARY, device_types_paths=[REPO / "device-types"])
    uboot = config["actions"]["boot"]["methods"]["u-boot"]
    constants = config["constants"]["u-boot"]
    addresses = config["parameters"]["booti"]
    tftp = tmp_path / "tftp"
    tftp.mkdir()
    shutil.copy(IMAGES / "Image", tftp / "Image")
    shutil.copy(IMAGES / "initramfs.cpio.gz", tftp / "initramfs.cpio.gz")
    values = {"{KERNEL_ADDR}": addresses["kernel"], "{RAMDISK_ADDR}": addresses["ramdisk"],
              "{DTB_ADDR}": addresses["dtb"], "{KERNEL}": "Image", "{RAMDISK}": "initramfs.cpio.gz"}
    commands = [fill(command, values) for command in uboot["ramdisk"]["commands"]]
    assert not [c for c in commands if re.search(r"\{[A-Z_]+\}", c)], commands

    qemu = (f"qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -nographic -no-reboot -accel tcg "
            f"-bios {UBOOT_BIN} -netdev user,id=n0,tftp={tftp} -device virtio-net-pci,netdev=n0")
    start = time.monotonic()
    board = pexpect.spawn("/bin/sh", ["-c", "exec " + qemu], encoding="utf-8", timeout=60,
                          codec_errors="replace", cwd=str(tmp_path))
    try:
        board.expect(constants["interrupt-prompt"])
        board.send(uboot["parameters"]["interrupt_char"])
        prompt = uboot["parameters"]["bootloader_prompt"]
        board.expect(prompt)
        errors = [re.escape(message) for message in constants["error-messages"]]
        for command in commands[:-1]:
            board.sendline(command)
            index = board.expect([re.escape(prompt)] + errors)
            assert index == 0, f"{command!r}: U-Boot said {board.after!r}"
        board.sendline(commands[-1])
        board.expect(constants["final-message"])
        board.expect(config["constants"]["kernel-start-message"])
        board.expect("root@lava")
        print(f"shell {time.monotonic() - start:.2f}s after power-on")
        board.sendline("cat /proc/cmdline")
        board.expect("console=ttyAMA0,115200n8 root=/dev/ram0 panic=-1")
        board.sendline("poweroff -f")
        board.expect(pexpect.EOF)
    finally:
        board.close(force=True)
