"""Golden files of ``describe()`` for the pipelines of every method.

Regenerate after an intended change: LAVA_REGENERATE_GOLDEN=1 pytest tests/dispatcher/test_describe_golden.py
"""

import os
from pathlib import Path

import pytest
import yaml

from lava_dispatcher.device import parse_device
from lava_dispatcher.parser import build_pipeline

HERE = Path(__file__).parent
CASES = [
    ("qemu-tests.yaml", "qemu-x86_64.yaml", "qemu.yaml"),
    ("uboot-tftp.yaml", "uboot-arm64.yaml", "uboot.yaml"),
    ("docker-device.yaml", "docker.yaml", "docker-device.yaml"),
    ("qemu-docker-test.yaml", "qemu-x86_64.yaml", "qemu-docker-test.yaml"),
    ("lxc.yaml", "lxc.yaml", "lxc.yaml"),
    ("fastboot-flash.yaml", "fastboot-phone.yaml", "fastboot.yaml"),
    ("ssh-tests.yaml", "ssh-host.yaml", "ssh.yaml"),
    ("qemu-secondary-ssh.yaml", "qemu-ssh.yaml", "qemu-secondary-ssh.yaml"),
    ("qemu-nfs.yaml", "qemu-arm64-netroot.yaml", "qemu-nfs.yaml"),
    ("nbd.yaml", "qemu-arm64-netroot.yaml", "nbd.yaml"),
    ("uboot-nfs.yaml", "uboot-arm64.yaml", "uboot-nfs.yaml"),
    ("disk-image.yaml", "qemu-x86_64.yaml", "disk-image.yaml"),
    ("overlay-disk.yaml", "qemu-x86_64.yaml", "overlay-disk.yaml"),
    ("ipxe-tftp.yaml", "ipxe-x86.yaml", "ipxe.yaml"),
    ("bootloader-ipxe.yaml", "ipxe-x86.yaml", "bootloader-ipxe.yaml"),
    ("grub-efi-tftp.yaml", "grub-x86.yaml", "grub-efi.yaml"),
    ("uefi-menu.yaml", "mustang-uefi.yaml", "uefi-menu.yaml"),
    ("iso-installer.yaml", "qemu-x86_64.yaml", "iso-installer.yaml"),
    ("uboot-usb.yaml", "uboot-media.yaml", "uboot-usb.yaml"),
]


@pytest.mark.parametrize("job_file,device_file,golden", CASES)
def test_describe_matches_golden(job_file, device_file, golden):
    if not (HERE / "jobs" / job_file).exists():
        pytest.skip(f"{job_file} not written yet")
    job = yaml.safe_load((HERE / "jobs" / job_file).read_text())
    device = parse_device(yaml.safe_load((HERE / "devices" / device_file).read_text()))
    pipeline, _ = build_pipeline(job, device, "42")
    described = pipeline.describe()
    path = HERE / "golden" / golden
    if os.environ.get("LAVA_REGENERATE_GOLDEN") or not path.exists():
        path.write_text(yaml.safe_dump(described, sort_keys=False))
        if not os.environ.get("LAVA_REGENERATE_GOLDEN"):
            pytest.fail(f"golden file {path.name} was missing and has been written; check and commit it")
    assert described == yaml.safe_load(path.read_text())
