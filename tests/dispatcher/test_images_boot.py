"""Boot the test images in real QEMU (and through real U-Boot) to a prompt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pexpect
import pytest
from testimages import (
    LOGIN_PROMPT,
    PASSWORD,
    PASSWORD_PROMPT,
    SHELL_PROMPT,
    USERNAME,
    images,
    require_qemu,
)

pytestmark = pytest.mark.qemu
BOOT_TIMEOUT = 120


def spawn(argv: list[str]) -> pexpect.spawn:
    return pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace", timeout=BOOT_TIMEOUT)


def finish(console: pexpect.spawn) -> None:
    try:
        console.sendline("poweroff -f")
        console.expect(pexpect.EOF, timeout=30)
    finally:
        console.close(force=True)


def login_and_check(console: pexpect.spawn, login: bool) -> None:
    if login:
        console.expect(LOGIN_PROMPT)
        console.sendline(USERNAME)
        console.expect(PASSWORD_PROMPT)
        console.sendline(PASSWORD)
    console.expect_exact(SHELL_PROMPT)
    # the tools lava-test-shell relies on, all present in the busybox image
    console.sendline("for t in sh sed awk grep mkdir cat date tr mv tee find ip; do command -v $t >/dev/null || echo MISS''ING-$t; done; echo to''ols-done")
    console.expect(r"tools-done\r")
    assert "MISSING-" not in console.before
    console.sendline("cd /tmp")
    console.expect_exact("root@lava:/tmp# ")


@pytest.mark.parametrize("login", [False, True], ids=["shell", "login"])
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_boot_to_prompt(arch: str, login: bool) -> None:
    require_qemu(arch)
    imgs = images().arch(arch)
    console = spawn(imgs.qemu_command(login=login))
    try:
        login_and_check(console, login)
    finally:
        finish(console)
    assert console.exitstatus == 0


def test_login_on_kernel_command_line() -> None:
    require_qemu("arm64")
    imgs = images().arm64
    console = spawn(imgs.qemu_command(extra_append="login=1"))
    try:
        login_and_check(console, login=True)
    finally:
        finish(console)


def test_panic_on_request() -> None:
    require_qemu("arm64")
    imgs = images().arm64
    console = spawn(imgs.qemu_command(extra_append="lava.panic=1"))
    try:
        console.expect("Kernel panic - not syncing")
        # panic=-1 with -no-reboot: QEMU exits by itself
        console.expect(pexpect.EOF)
    finally:
        console.close(force=True)


def test_uboot_tftp_booti(tmp_path: Path) -> None:
    require_qemu("arm64")
    imgs = images()
    if imgs.uboot_arm64 is None:
        pytest.skip("u-boot-qemu is not installed")
    tftp = tmp_path / "tftp"
    tftp.mkdir()
    shutil.copy(imgs.arm64.kernel, tftp / "Image")
    shutil.copy(imgs.arm64.initramfs, tftp / "initramfs.cpio.gz")
    argv = [
        "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg", "-m", "512",
        "-nographic", "-no-reboot", "-bios", str(imgs.uboot_arm64),
        "-netdev", f"user,id=n0,tftp={tftp}", "-device", "virtio-net-pci,netdev=n0",
    ]
    console = spawn(argv)
    try:
        console.expect("Hit any key to stop autoboot")
        console.send(" ")
        console.expect_exact("=> ")
        for cmd in [
            "setenv autoload no", "dhcp", "setenv serverip 10.0.2.2",
            "tftpboot ${kernel_addr_r} Image", "tftpboot ${ramdisk_addr_r} initramfs.cpio.gz",
            "setenv bootargs console=ttyAMA0 panic=-1 quiet",
        ]:
            console.sendline(cmd)
            console.expect_exact("=> ")
            assert "Error" not in console.before and "not found" not in console.before, console.before
        console.sendline("booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdt_addr}")
        console.expect("Starting kernel")
        console.expect_exact(SHELL_PROMPT)
    finally:
        finish(console)
