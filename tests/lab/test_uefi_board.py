"""The lab's UEFI server: catalogue entry, virtual-lab files and BMC configuration agree (no processes)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "share" / "virtual-lab"))
sys.path.insert(0, str(REPO_ROOT / "share" / "lab"))
import boards  # noqa: E402
import catalog  # noqa: E402
import uefi_board  # noqa: E402

from lava_scheduler.device_config.render import render_device_config  # noqa: E402


def lab_with_the_server(tmp_path: Path) -> tuple[boards.LabConfig, boards.Board, str]:
    board = next(b for b in catalog.BOARDS if b.hostname == "uefi-x86-01")
    wiring = catalog.wirings([board], 7101, "127.0.0.1:16421")[board.hostname]
    entry = {"name": board.hostname, "kind": board.kind, "outlet": wiring.outlet, "telnet_port": wiring.telnet_port,
             "tftp_root": "tftp", **board.kind_options}
    config = boards.parse_config({"state_dir": "state", "boards": [entry]}, tmp_path)
    return config, config.boards[0], board.dictionary(wiring)


def test_the_dictionary_talks_to_the_bmc_the_lab_runs(tmp_path):
    config, board, dictionary = lab_with_the_server(tmp_path)
    assert not next(b for b in catalog.BOARDS if b.hostname == "uefi-x86-01").default
    bmc = uefi_board.bmc_of(config, board)
    device = render_device_config("uefi-x86-01", dictionary)
    for command in ("power_on", "power_off", "hard_reset"):
        words = device["commands"][command].split()
        assert words[:3] == ["ipmitool", "-I", "lanplus"]
        assert words[words.index("-p") + 1] == str(bmc.lan_port)
        assert words[words.index("-U") + 1] == bmc.user and words[words.index("-P") + 1] == bmc.password
    assert device["commands"]["hard_reset"].endswith("chassis power cycle")
    assert device["commands"]["connect"] == f"telnet localhost {board.telnet_port}"
    ramdisk = device["actions"]["boot"]["methods"]["grub-efi"]["ramdisk"]["commands"]
    assert ramdisk[1].startswith("linux (tftp,10.0.2.2)/{KERNEL} console=ttyS0")


def test_the_bmc_starts_the_boards_qemu_attached_to_it(tmp_path):
    config, board, _ = lab_with_the_server(tmp_path)
    bmc = uefi_board.bmc_of(config, board)
    qemu = boards.KINDS[board.kind](config, board)
    assert f"socket,id=bmc-link,host=127.0.0.1,port={bmc.vm_port},reconnect=1" in qemu
    assert f"user,id=n0,tftp={board.tftp_root},bootfile={uefi_board.BOOTFILE},ipv6=off" in qemu
    assert str(config.outlet_file(board, "pid")) in qemu and "-daemonize" not in qemu  # ipmi_sim is its parent
    conf = bmc.lan_conf(qemu)
    assert f"addr 127.0.0.1 {bmc.lan_port}" in conf and f"serial 15 127.0.0.1 {bmc.vm_port} codec VM" in conf
    assert "startnow false" in conf  # off until 'chassis power on'
    assert f'user 2 true "{bmc.user}" "{bmc.password}" admin' in conf
    assert all(str(path).startswith(str(config.state_dir)) for path in bmc.command() if "/" in str(path))


def test_health_check_and_sample_job_use_the_grub_efi_method():
    for path in (REPO_ROOT / "share" / "health-checks" / "grub-x86.yaml", REPO_ROOT / "share" / "lab" / "jobs" /
                 "grub-x86.yaml"):
        job = yaml.safe_load(path.read_text())
        assert job["device_type"] == "grub-x86"
        assert [a["boot"]["method"] for a in job["actions"] if "boot" in a] == ["grub-efi"]
