"""The lab's U-Boot board with secondary media (uboot-media-arm64-01): a USB stick and a SATA disk.

Its virtual-lab kind, catalogue entry and sample job without a lab; then the live lab with this board
alone: the health check makes it Good, the sample job (a master OS writes the disk image to the stick,
U-Boot boots from it) completes through lavacli, and the lab's stop leaves no process behind.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from testimages import media_images

from lava_scheduler.device_config import render_device_config

from .lab_client import LabClient
from .test_lab import JOBS, REPO_ROOT, RunningLab, finished, job_file, log_has, wait_for

sys.path.insert(0, str(REPO_ROOT / "share" / "virtual-lab"))
sys.path.insert(0, str(REPO_ROOT / "share" / "lab"))
import boards  # noqa: E402 - share/virtual-lab is not a package
import catalog  # noqa: E402

BOARD = "uboot-media-arm64-01"
SAMPLE = "uboot-media-arm64.yaml"


def test_the_kind_is_the_uboot_board_with_an_ehci_stick_and_an_ahci_disk_kept_under_the_state(tmp_path):
    entry = {"name": "m1", "kind": boards.MEDIA_KIND, "outlet": 1, "telnet_port": 27001, "tftp_root": "tftp"}
    config = boards.parse_config({"state_dir": "state", "boards": [entry]}, tmp_path)
    argv = boards.KINDS[boards.MEDIA_KIND](config, config.boards[0])
    usb, sata = tmp_path / "state" / "disks" / "m1" / "usb.img", tmp_path / "state" / "disks" / "m1" / "sata.img"
    added = ["-device", "usb-ehci,id=ehci", "-drive", f"if=none,id=usbdisk,format=raw,file={usb}",
             "-device", "usb-storage,bus=ehci.0,drive=usbdisk,serial=LAVAUSB1",
             "-device", "ahci,id=ahci", "-drive", f"if=none,id=satadisk,format=raw,file={sata}",
             "-device", "ide-hd,bus=ahci.0,drive=satadisk,serial=LAVASATA1"]
    plain = boards.KINDS["qemu-uboot-arm64"](config, config.boards[0])
    at = plain.index("-chardev")
    assert argv == plain[:at] + added + plain[at:]
    assert usb.stat().st_size == sata.stat().st_size == 128 << 20
    # what a job wrote stays for the next power-on
    usb.write_bytes(b"written")
    boards.KINDS[boards.MEDIA_KIND](config, config.boards[0])
    assert usb.read_bytes() == b"written"


def test_the_board_is_optional_and_its_dictionary_names_its_media():
    assert BOARD not in [b.hostname for b in catalog.choose("default")]
    assert not catalog.needs_media_images(catalog.choose("all")[:-1])
    (board,) = catalog.choose(BOARD)
    assert catalog.needs_media_images([board])
    wiring = catalog.wirings([board], 7101, "127.0.0.1:16421")[BOARD]
    config = render_device_config(BOARD, board.dictionary(wiring), device_types_paths=[REPO_ROOT / "device-types"])
    assert config["parameters"]["media"]["usb"]["QemuStick"]["uuid"] == catalog.USB_BY_ID
    assert config["parameters"]["media"]["sata"]["QemuDisk"]["uuid"] == catalog.SATA_BY_ID
    assert {"usb", "sata", "tftp"} <= set(config["actions"]["deploy"]["methods"])
    assert "usb start" in config["actions"]["boot"]["methods"]["u-boot"]["usb"]["commands"]
    assert config["commands"]["connect"] == f"telnet localhost {wiring.telnet_port}"


def test_the_sample_job_asks_for_this_board_only():
    job = yaml.safe_load((JOBS / SAMPLE).read_text())
    board = next(b for b in catalog.BOARDS if b.hostname == BOARD)
    assert job["device_type"] == board.device_type and set(job["tags"]) <= set(board.tags)
    others = [b for b in catalog.BOARDS if b.hostname != BOARD]
    assert not any(b.device_type == job["device_type"] and set(job["tags"]) <= set(b.tags) for b in others)


@pytest.mark.qemu
@pytest.mark.lab
def test_health_check_and_sample_job_complete_on_the_media_board(tmp_path):
    for tool in ("qemu-system-aarch64", "ser2net", "socat", "telnet"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (share/ci/setup-host.sh)")
    if not Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin").exists():
        pytest.skip("u-boot-qemu is not installed")
    imgs = media_images()  # built now rather than inside the lab's start-up time
    lab = RunningLab(tmp_path, None)
    lab.start(600, args=("--no-samples", "--boards", BOARD))
    try:
        user, token = lab.credentials()
        client = LabClient(lab.url, user, token, lab.env, lab.state)
        assert client.lavacli, "driven through lavacli"
        wait_for(lambda: client.device_health(BOARD) == "Good", 420, f"{BOARD} Good", lab, interval=3)
        job_id = client.submit(job_file(tmp_path, SAMPLE, imgs.disk.parent.parent))
        job = wait_for(lambda: finished(client, job_id), 1200, "the sample job to finish", lab, interval=5)
        assert (job["health"], job["device"]) == ("Complete", BOARD), lab.output()
        cases = {r["name"]: r["result"] for r in client.results(job_id) if r["suite"].endswith("usb-root")}
        assert cases == {"rootfs": "pass", "root-on-the-stick": "pass"}, cases
        assert log_has(client, job_id, rf"\| dd of='/dev/disk/by-id/{catalog.USB_BY_ID}' bs=4M")
        assert log_has(client, job_id, r"^load usb 0:1 0x[0-9a-f]+ /boot/Image")
    finally:
        assert lab.stop() == 0, lab.output()
    assert lab.leftovers() == [], lab.output()
    disks = lab.state / "virtual-lab" / "disks" / BOARD
    # the stick holds the image's partition table now; the SATA disk was not written
    assert (disks / "usb.img").read_bytes()[:512] == imgs.disk.read_bytes()[:512]
    assert (disks / "sata.img").read_bytes()[:512] == bytes(512)
