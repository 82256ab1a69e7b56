"""The lab's NFS board (nfs-arm64-01): its catalogue entry, its dictionary, and the nfs-ganesha the virtual lab
starts for it (and only for it)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_config

REPO_ROOT = Path(__file__).resolve().parents[2]
VIRTUAL_LAB = REPO_ROOT / "share" / "virtual-lab"
sys.path.insert(0, str(VIRTUAL_LAB))
sys.path.insert(0, str(REPO_ROOT / "share" / "lab"))
import boards  # noqa: E402
import catalog  # noqa: E402
from processes import processes_naming  # noqa: E402
from virtual_lab import nfs_servers  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_nfs_board_is_chosen_by_name_only_and_its_dictionary_names_the_nfs_port():
    assert "nfs-arm64-01" not in [b.hostname for b in catalog.choose("default")]
    chosen = catalog.choose("default,nfs-arm64-01")
    assert catalog.needs_nfs_server(chosen) and not catalog.needs_nfs_server(catalog.choose("default"))
    wiring = catalog.wirings(chosen, 7101, "127.0.0.1:16421")["nfs-arm64-01"]
    assert wiring.nfs_port == 7101 - catalog.NFS_PORT_BELOW_TELNET
    board = next(b for b in chosen if b.hostname == "nfs-arm64-01")
    config = render_device_config("nfs-arm64-01", board.dictionary(wiring), device_types_paths=[REPO_ROOT / "device-types"])
    nfs = config["actions"]["boot"]["methods"]["u-boot"]["nfs"]["commands"]
    bootargs = next(c for c in nfs if c.startswith("setenv bootargs"))
    assert f"nfsroot={{NFS_SERVER_IP}}:{{NFSROOTFS}},tcp,hard,port={wiring.nfs_port}" in bootargs
    assert "tftp {RAMDISK_ADDR} {RAMDISK}" in nfs and nfs[-1] == "{BOOTX}"


def test_the_sample_job_asks_for_the_nfs_board():
    job = yaml.safe_load((REPO_ROOT / "share" / "lab" / "jobs" / "nfs-arm64.yaml").read_text())
    board = next(b for b in catalog.BOARDS if b.hostname == "nfs-arm64-01")
    assert job["device_type"] == board.device_type and set(job["tags"]) <= set(board.tags)
    assert not set(job["tags"]) <= set(next(b for b in catalog.BOARDS if b.hostname == "uboot-arm64-01").tags)


def _lab(tmp_path: Path, nfs_port: int, with_nfs: bool = True) -> boards.LabConfig:
    entry = {"name": "n1", "kind": "qemu-uboot-arm64", "outlet": 1, "telnet_port": 27999, "tftp_root": "tftp"}
    if with_nfs:
        entry.update(nfs_server=True, nfs_root=str(tmp_path / "nfs"), nfs_port=nfs_port)
    data = {"state_dir": "state", "pdu": {"port": _free_port()}, "ser2net": {"control_port": _free_port()},
            "boards": [{**entry, "telnet_port": _free_port()}]}
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump(data))
    return boards.load_config(tmp_path / "lab.yaml")


def test_ganesha_only_for_boards_that_ask_for_it(tmp_path):
    assert nfs_servers(_lab(tmp_path, 2049, with_nfs=False)) == {}
    (server,) = nfs_servers(_lab(tmp_path, 20490)).values()
    assert server.port == 20490 and server.export_root == (tmp_path / "nfs").resolve()
    config = tmp_path / "lab.yaml"
    config.write_text(config.read_text().replace("nfs_port: 20490", "nfs_port: null").replace("  nfs_port: null\n", ""))
    with pytest.raises(boards.ConfigError, match="nfs_server needs nfs_root"):
        nfs_servers(boards.load_config(config))


def test_the_virtual_lab_runs_ganesha_for_the_nfs_board_and_stops_it(tmp_path):
    for tool in ("ser2net", "socat", "ganesha.nfsd"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (share/ci/setup-host.sh)")
    install = subprocess.run(["sh", str(VIRTUAL_LAB / "install-pdudaemon.sh")], capture_output=True, text=True)
    if install.returncode != 0:
        pytest.skip(f"pdudaemon cannot be installed here: {install.stderr[-300:]}")
    port = _free_port()
    _lab(tmp_path, port)
    command = [sys.executable, str(VIRTUAL_LAB / "virtual_lab.py")]
    assert subprocess.run([*command, "start", str(tmp_path / "lab.yaml")], timeout=90).returncode == 0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        assert (tmp_path / "nfs").is_dir()
        assert processes_naming(f"nfs-ganesha-{port}/ganesha.conf")
    finally:
        subprocess.run([*command, "stop", str(tmp_path / "lab.yaml")], timeout=90)
    assert processes_naming(str(tmp_path)) == {}
