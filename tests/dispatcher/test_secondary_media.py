"""Secondary media: ``deploy: to: usb|sata`` written from a master OS, then U-Boot's ``usb``/``sata`` lists.

Without a board, a local shell stands in for the master OS (the fake board): the deploy types
``wget ... | dd`` at it, and the "disk" is a file the dictionary's by-id name leads to. The real run
is the virtual U-Boot board (QEMU arm64, Debian's U-Boot) with a USB stick (EHCI + usb-storage) and
a SATA disk (AHCI): the master OS boots a ramdisk over TFTP, writes the disk image served by
lava-run onto both, and the board boots from each in turn.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from testimages import PROMPT_REGEX, images, media_images, require_qemu

from lava_dispatcher.actions.boot.secondary_media import media_values
from lava_dispatcher.context import RemovableMedia
from lava_dispatcher.device import parse_device
from lava_scheduler.device_config import render_device_config

from .helpers import HERE, REPO, job_result, results, run_lava
from .qemu_jobs import inline

POWER = HERE / "virtual-uboot" / "power-media.sh"
WGET = {"tool": "/usr/bin/wget", "options": "-O - {DOWNLOAD_URL}", "prompt": "HTTP request sent, awaiting response"}


def fake_device(tmp_path: Path, disk: Path) -> Path:
    """The local-shell board with one USB stick, whose by-id name leads to the file ``disk``."""
    device = yaml.safe_load((HERE / "devices" / "fake-board.yaml").read_text())
    device["actions"]["deploy"]["methods"]["usb"] = None
    device["parameters"]["media"] = {"usb": {"Stick": {"uuid": f"../../..{disk}", "device_id": 0}}}
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(device))
    return path


def fake_job(image: Path, download: dict | None = None, device: str = "Stick", writer: dict | None = None) -> dict:
    return {
        "job_name": "usb from a local shell", "device_type": "fake", "visibility": "public",
        "timeouts": {"job": {"minutes": 2}, "action": {"seconds": 60}},
        "actions": [
            {"boot": {"namespace": "master", "method": "minimal", "reset": False, "prompts": ["fake-board# "]}},
            {"deploy": {"namespace": "stick", "to": "usb", "device": device, "download": download or WGET,
                        "image": {"url": f"file://{image}", "compression": "gz"}, **({"writer": writer} if writer else {})}},
        ],
    }


@pytest.fixture
def image(tmp_path):
    data = os.urandom(3 << 20)
    path = tmp_path / "image.img.gz"
    path.write_bytes(gzip.compress(data, compresslevel=1))
    return data, path


def test_the_master_os_downloads_and_writes_the_image(tmp_path, image):
    """Through a `writer` (the host has no /dev/disk/by-id for dd's default target; the QEMU run covers dd)."""
    data, path = image
    disk = tmp_path / "disk.img"
    writer = {"tool": "/usr/bin/dd", "options": f"of={disk} bs=1M", "prompt": "unused: the download starts first"}
    proc, records, _ = run_lava(tmp_path, fake_job(path, writer=writer), fake_device(tmp_path, disk),
                                dispatcher_extra={"dispatcher_ip": "127.0.0.1"}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert disk.read_bytes() == data  # decompressed on the worker, written whole
    typed = next(str(r["msg"]) for r in records if r["lvl"] == "input" and "wget" in str(r["msg"]))
    assert typed.startswith("rm -f /tmp/lava-download.status; { /usr/bin/wget -O - http://127.0.0.1:")
    assert f"/image.img; echo $? >/tmp/lava-download.status; }} | /usr/bin/dd of={disk} bs=1M;" in typed


def test_a_writer_alone_finds_the_other_files_beside_the_image(tmp_path, image):
    """The reference's bmaptool job: no download tool, ``images: {image, bmap}``, the writer fetches both."""
    data, path = image
    (tmp_path / "image.img.bmap").write_text("<bmap/>")
    job = fake_job(path, writer={"tool": "/usr/bin/wget", "options": f"-q -P {tmp_path / 'got'} "
                                 "{DOWNLOAD_URL} {DOWNLOAD_URL}.bmap", "prompt": "bmaptool: info"})
    deploy = job["actions"][1]["deploy"]
    del deploy["download"]
    deploy["images"] = {"image": deploy.pop("image"), "bmap": {"url": f"file://{tmp_path / 'image.img.bmap'}"}}
    proc, _, _ = run_lava(tmp_path, job, fake_device(tmp_path, tmp_path / "disk.img"),
                          dispatcher_extra={"dispatcher_ip": "127.0.0.1"}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "got" / "image.img").read_bytes() == data
    assert (tmp_path / "got" / "image.img.bmap").read_text() == "<bmap/>"


def test_a_download_that_fails_ends_the_job_naming_the_url(tmp_path, image):
    _, path = image
    broken = {**WGET, "options": "-O - {DOWNLOAD_URL}.missing"}
    writer = {"tool": "/usr/bin/dd", "options": f"of={tmp_path / 'disk.img'}", "prompt": "unused"}
    proc, records, _ = run_lava(tmp_path, fake_job(path, broken, writer=writer), fake_device(tmp_path, tmp_path / "disk.img"),
                                dispatcher_extra={"dispatcher_ip": "127.0.0.1"}, timeout=120)
    result = job_result(records)
    assert proc.returncode != 0 and result["result"] == "fail" and result["error_type"] == "Job"
    assert "deploy to usb: the board could not download http://127.0.0.1:" in result["error_msg"]
    assert "(the download tool exited with 8)" in result["error_msg"]  # wget: the server answered 404


def test_bad_media_input_is_refused_at_validation(tmp_path, image):
    _, path = image
    device = fake_device(tmp_path, tmp_path / "disk.img")
    job = fake_job(path, device="SanDisk_Ultra")
    job["actions"][1]["deploy"]["download"] = {**WGET, "tool": "wget"}
    job["actions"].append({"boot": {"namespace": "stick", "method": "minimal", "prompts": ["x"]}})
    proc, _, _ = run_lava(tmp_path, job, device, "--validate")
    assert proc.returncode != 0
    assert "device: 'SanDisk_Ultra' is not a usb device of this board (known: Stick)" in proc.stderr
    assert "download.tool: 'wget' must be an absolute path on the board" in proc.stderr


def test_without_a_booted_os_the_deploy_says_so(tmp_path, image):
    _, path = image
    job = fake_job(path)
    del job["actions"][0]
    proc, records, _ = run_lava(tmp_path, job, fake_device(tmp_path, tmp_path / "disk.img"), timeout=60)
    assert job_result(records)["result"] == "fail"
    assert "deploy to usb: no booted OS to write from" in job_result(records)["error_msg"]


# -- the real board

USB_ID = "usb-QEMU_QEMU_HARDDISK_LAVAUSB1-0:0"
SATA_ID = "ata-QEMU_HARDDISK_LAVASATA1"


@pytest.fixture
def serial_line(tmp_path):
    """The board's serial cable: a socat pty pair that outlives the board's power cycles."""
    uart, line = tmp_path / "uart", tmp_path / "line"
    cable = subprocess.Popen(["socat", f"pty,raw,echo=0,link={uart}", f"pty,raw,echo=0,link={line}"],
                             start_new_session=True)
    for _ in range(100):
        if uart.exists() and line.exists():
            break
        subprocess.run(["sleep", "0.05"])
    yield uart, line
    cable.terminate()
    cable.wait(timeout=10)


def media_board(tmp_path: Path, uart: Path, line: Path) -> tuple[Path, Path, Path]:
    usb, sata = tmp_path / "usb.img", tmp_path / "sata.img"
    for disk in (usb, sata):
        with disk.open("wb") as out:
            out.truncate(64 << 20)  # blank: only the deploy puts something there
    power = f"{POWER} %s {tmp_path / 'board'} {uart} {tmp_path / 'tftp'} {usb} {sata}"
    dictionary = (
        "{% extends 'qemu-uboot-arm64.jinja2' %}\n"
        f"{{% set connection_command = 'socat STDIO,raw,echo=0 {line},raw,echo=0' %}}\n"
        f"{{% set power_on_command = '{power % 'on'}' %}}\n{{% set power_off_command = '{power % 'off'}' %}}\n"
        "{% set uboot_tftp_server_ip = '10.0.2.2' %}\n"
        f"{{% set usb_label = 'QemuStick' %}}\n{{% set usb_uuid = '{USB_ID}' %}}\n"
        f"{{% set sata_label = 'QemuDisk' %}}\n{{% set sata_uuid = '{SATA_ID}' %}}\n"
    )
    config = render_device_config("media-01", dictionary, device_types_paths=[REPO / "device-types"])
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, usb, sata


def media_job(imgs) -> dict:
    download = {"tool": "/usr/bin/wget", "options": "-O - {DOWNLOAD_URL}", "prompt": "Connecting to"}
    image = {"url": f"file://{imgs.disk}", "partition": 0, "overlays": {"lava": True}}

    def boot_from(namespace: str, commands: str, by_id: str) -> dict:
        return {"boot": {"namespace": namespace, "method": "u-boot", "commands": commands, "prompts": [PROMPT_REGEX],
                         "kernel": "/boot/Image", "ramdisk": "/boot/media.cpio.gz", "kernel_type": "image",
                         "root_uuid": f"/dev/disk/by-id/{by_id}-part1", "boot_part": 1}}

    def checks(namespace: str, by_id: str) -> dict:
        return {"test": {"namespace": namespace, "timeout": {"minutes": 2}, "definitions": [inline(namespace, [
            "lava-test-case rootfs --shell grep -q 'media rootfs' /etc/lava-rootfs",
            f"lava-test-case root-device --shell grep -q '^/dev/disk/by-id/{by_id}-part1 / ext4' /proc/mounts",
        ])]}}

    return {
        "job_name": "secondary media", "device_type": "qemu-uboot-arm64", "visibility": "public",
        # a 32 MiB kernel over QEMU's TFTP (or U-Boot's USB) takes 1 s on an idle machine and the kernel
        # boots in 5 s; on a loaded one, minutes each: far more than the device's 30 s a command
        "timeouts": {"job": {"minutes": 25}, "action": {"minutes": 8},
                     "actions": {"auto-login-action": {"minutes": 6}},
                     "connections": {"bootloader-commands": {"minutes": 6}}},
        "actions": [
            {"deploy": {"namespace": "master", "to": "tftp", "kernel": {"url": f"file://{imgs.kernel}", "type": "image"},
                        "ramdisk": {"url": f"file://{imgs.initramfs}"}}},
            {"boot": {"namespace": "master", "method": "u-boot", "commands": "ramdisk", "prompts": [PROMPT_REGEX]}},
            {"deploy": {"namespace": "stick", "to": "usb", "device": "QemuStick", "download": download, "image": image}},
            {"deploy": {"namespace": "disk", "to": "sata", "device": "QemuDisk", "download": download, "image": image}},
            boot_from("stick", "usb", USB_ID),
            checks("stick", USB_ID),
            boot_from("disk", "sata", SATA_ID),
            checks("disk", SATA_ID),
        ],
    }


def _left(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


@pytest.mark.qemu
def test_uboot_boots_from_the_usb_stick_and_sata_disk_the_master_os_wrote(tmp_path, serial_line):
    require_qemu("arm64")
    if images().uboot_arm64 is None:
        pytest.skip("u-boot-qemu is not installed")
    imgs = media_images()
    device, usb, sata = media_board(tmp_path, *serial_line)
    proc, records, _ = run_lava(tmp_path, media_job(imgs), device, dispatcher_extra={"dispatcher_ip": "10.0.2.2"},
                                timeout=1600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    for definition in ("stick", "disk"):  # the test definitions' names, ranked by the job's order
        assert {case: result for (name, case), result in found.items() if name.endswith(definition)} == {
            "rootfs": "pass", "root-device": "pass"}, found
    inputs = [str(r["msg"]) for r in records if r["lvl"] == "input"]
    assert any(f"| dd of='/dev/disk/by-id/{USB_ID}' bs=4M" in i for i in inputs), inputs
    assert "load usb 0:1 0x40400000 /boot/Image" in inputs and "load scsi 0:1 0x40400000 /boot/Image" in inputs
    # both disks now start with the image's partition table, and the overlay went into the partition
    assert usb.read_bytes()[:512] == sata.read_bytes()[:512] == imgs.disk.read_bytes()[:512]
    assert not _left(str(tmp_path / "board")), "QEMU outlived the job"

    # media U-Boot cannot read: a blank SATA disk, booted without a deploy
    sata.write_bytes(bytes(1 << 20))
    blank = media_job(imgs)
    blank["actions"] = [blank["actions"][6]]
    blank["actions"][0]["boot"]["namespace"] = "blank"
    (tmp_path / "blank").mkdir()
    proc, records, _ = run_lava(tmp_path / "blank", blank, device, timeout=900)
    result = job_result(records)
    assert result["result"] == "fail" and result["error_type"] == "Infrastructure", result
    assert ("u-boot: matched a bootloader error message after 'load scsi 0:1 0x40400000 /boot/Image': "
            "'Couldn't find partition'") in result["error_msg"]
    assert not _left(str(tmp_path / "board")), "QEMU outlived the job"


def test_a_boot_from_media_needs_its_files_and_the_media(tmp_path):
    job = yaml.safe_load((HERE / "jobs" / "uboot-usb.yaml").read_text())
    boot = job["actions"][3]["boot"]
    del boot["kernel"], boot["root_uuid"]
    proc, _, _ = run_lava(tmp_path, job, HERE / "devices" / "uboot-media.yaml", "--validate")
    assert proc.returncode != 0
    assert "commands: usb: 'kernel' (its path inside the written image) is required" in proc.stderr
    assert "commands: usb: 'root_uuid' (the root the kernel mounts, e.g. UUID=...) is required" in proc.stderr
    # a board without a USB stick: neither the deploy nor the boot is taken
    device = yaml.safe_load((HERE / "devices" / "uboot-media.yaml").read_text())
    del device["parameters"]["media"]
    (tmp_path / "bare.yaml").write_text(yaml.safe_dump(device))
    job["actions"][2:3] = []
    proc, _, _ = run_lava(tmp_path, job, tmp_path / "bare.yaml", "--validate")
    assert "commands: usb: the device has no usb media (parameters.media.usb: set usb_uuid in its dictionary)" in proc.stderr


def test_the_boot_fills_root_part_from_the_media_device_id():
    """``{ROOT_PART}`` is the dictionary's device_id and the job's boot_part; GRUB's is taken as written."""
    device = parse_device(yaml.safe_load((HERE / "devices" / "uboot-media.yaml").read_text()))
    ctx = type("Ctx", (), {"device": device, "media": RemovableMedia("usb", "QemuStick", "x", 2)})()
    block = {"commands": "usb", "kernel": "/boot/Image", "root_uuid": "UUID=1", "boot_part": 1}
    assert media_values(ctx, block) == {"ROOT": "UUID=1", "ROOT_PART": "2:1", "KERNEL": "/boot/Image"}
    ctx.media = None  # no deploy in this namespace: the board's only stick
    assert media_values(ctx, {**block, "boot_part": "(hd0,gpt1)"})["ROOT_PART"] == "(hd0,gpt1)"
    assert media_values(ctx, block)["ROOT_PART"] == "0:1"
    assert media_values(ctx, {**block, "commands": "ramdisk"}) == {}
