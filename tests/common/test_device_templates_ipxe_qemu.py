"""The iPXE family (x86 type), proven on QEMU's own iPXE option ROM.

The test plays the dispatcher's part from the rendered configuration only:
wait for the iPXE banner, send Ctrl-B, type the `ramdisk` list (placeholders
filled) at `iPXE>`, then expect the kernel and a shell. QEMU's built-in TFTP
server (slirp `tftp=`) is the {SERVER_IP}, at 10.0.2.2.
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
IMAGES = Path(os.environ.get("LAVA_TEST_IMAGES", Path.home() / ".cache" / "lava" / "test-images")) / "x86_64"
DICTIONARY = "{% extends 'x86.jinja2' %}\n{% set extra_kernel_args = 'panic=-1' %}\n"

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not shutil.which("qemu-system-x86_64"), reason="qemu-system-x86_64 not installed"),
    pytest.mark.skipif(not (IMAGES / "bzImage").is_file() or not (IMAGES / "initramfs.cpio.gz").is_file(),
                       reason="x86_64 test images not built (share/test-images/build.sh)"),
]


def fill(command: str, values: dict[str, str]) -> str:
    return re.sub(r"\{[A-Z_]+\}", lambda m: values.get(m.group(0), m.group(0)), command)


def type_slowly(board, line: str, delay_ms: int) -> None:
    # as the dispatcher does with character_delays.boot: iPXE drops characters sent at full speed
    for char in line:
        board.send(char)
        time.sleep(delay_ms / 1000)
    board.send("\r")


def test_rendered_ipxe_ramdisk_commands_boot_a_pc(tmp_path: Path) -> None:
    # QEMU's emulated UART keeps up at 20 ms per character (the type's 100 ms default is for real
    # PCs); the job context is how a job would ask for it, and it keeps this test short
    config = render_device_config("x86-09", DICTIONARY, {"boot_character_delay": 20},
                                  device_types_paths=[REPO / "device-types"])
    ipxe = config["actions"]["boot"]["methods"]["ipxe"]
    constants = config["constants"]["ipxe"]
    tftp = tmp_path / "tftp"
    tftp.mkdir()
    shutil.copy(IMAGES / "bzImage", tftp / "bzImage")
    shutil.copy(IMAGES / "initramfs.cpio.gz", tftp / "initramfs.cpio.gz")
    values = {"{SERVER_IP}": "10.0.2.2", "{KERNEL}": "bzImage", "{RAMDISK}": "initramfs.cpio.gz",
              "{LAVA_MAC}": "52:54:00:12:34:56"}
    commands = [fill(command, values) for command in ipxe["ramdisk"]["commands"]]
    assert not [c for c in commands if re.search(r"\{[A-Z_]+\}", c)], commands

    qemu = (f"qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -boot n "
            f"-netdev user,id=n0,tftp={tftp} -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56")
    start = time.monotonic()
    board = pexpect.spawn("/bin/sh", ["-c", "exec " + qemu], encoding="utf-8", timeout=90,
                          codec_errors="replace", cwd=str(tmp_path))
    try:
        board.expect(re.escape(constants["interrupt-prompt"]))
        for letter in constants["interrupt_ctrl_list"]:
            board.sendcontrol(letter)
        prompt = re.escape(ipxe["parameters"]["bootloader_prompt"])
        board.expect(prompt)
        errors = [re.escape(message) for message in constants["error-messages"]]
        delay = config["character_delays"]["boot"]
        assert delay > 0
        for command in commands[:-1]:
            type_slowly(board, command, delay)
            index = board.expect([prompt] + errors)
            assert index == 0, f"{command!r}: iPXE said {board.after!r}"
        type_slowly(board, commands[-1], delay)
        board.expect(config["constants"]["kernel-start-message"])
        board.expect("root@lava")
        print(f"shell {time.monotonic() - start:.2f}s after power-on")
        board.sendline("cat /proc/cmdline")
        board.expect("root=/dev/ram0 panic=-1 ip=dhcp console=ttyS0,115200n8 lava_mac=52:54:00:12:34:56")
        board.sendline("poweroff -f")
        board.expect(pexpect.EOF)
    finally:
        board.close(force=True)
