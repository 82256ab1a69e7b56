"""The lab's iPXE PC without starting it: its virtual-lab kind's QEMU command and its catalogue entry.

It boots for real in tests/lab/test_lab.py (through the lab) and tests/dispatcher/test_ipxe.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lava_scheduler.device_config import render_device_config

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "share" / "virtual-lab"))
sys.path.insert(0, str(REPO_ROOT / "share" / "lab"))
import boards  # noqa: E402
import catalog  # noqa: E402


def kind_argv(tmp_path: Path, **options) -> list[str]:
    entry = {"name": "pc1", "kind": "qemu-ipxe-x86", "outlet": 2, "telnet_port": 27001, "tftp_root": "tftp", **options}
    config = boards.parse_config({"state_dir": "state", "boards": [entry]}, tmp_path)
    return boards.KINDS["qemu-ipxe-x86"](config, config.boards[0])


def test_the_kind_network_boots_the_ipxe_rom_with_tftp_from_the_workers_root(tmp_path):
    argv = kind_argv(tmp_path)
    assert argv[0] == "qemu-system-x86_64"
    assert argv[argv.index("-boot") + 1] == "n"
    assert argv[argv.index("-machine") + 1] == "graphics=off"  # SeaBIOS and iPXE on the serial port
    assert f"user,id=n0,tftp={tmp_path / 'tftp'}" in argv
    assert "e1000,netdev=n0,romfile=/usr/lib/ipxe/qemu/pxe-e1000.rom" in argv
    assert f"serial,id=s0,path={tmp_path / 'state' / 'serial' / 'pc1-uart'}" in argv
    assert "e1000,netdev=n0,romfile=/tmp/other.rom" in kind_argv(tmp_path, rom="/tmp/other.rom")


def test_the_board_is_chosen_only_by_name_and_its_dictionary_renders():
    assert "ipxe-x86-01" not in [b.hostname for b in catalog.choose("default")]
    (board,) = catalog.choose("ipxe-x86-01")
    wiring = catalog.wirings([board], 7101, "127.0.0.1:16421")["ipxe-x86-01"]
    # numbered by catalogue position: the same whichever other boards are chosen
    alongside = catalog.wirings(catalog.BOARDS, 7101, "127.0.0.1:16421")["ipxe-x86-01"]
    assert (wiring.outlet, wiring.telnet_port) == (alongside.outlet, alongside.telnet_port)
    config = render_device_config(board.hostname, board.dictionary(wiring), None,
                                  device_types_paths=[REPO_ROOT / "device-types"])
    assert config["devicetype"] == "x86"
    assert config["commands"]["connect"] == f"telnet localhost {wiring.telnet_port}"
    assert f"--port {wiring.outlet} --command reboot" in config["commands"]["hard_reset"]
    assert config["character_delays"]["boot"] == 20
    commands = config["actions"]["boot"]["methods"]["ipxe"]["ramdisk"]["commands"]
    assert "kernel tftp://10.0.2.2/{KERNEL} ${extraargs} ${console}" in commands

