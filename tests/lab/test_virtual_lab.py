"""share/virtual-lab: the lab file, what it makes of it, and one real board behind ser2net and pdudaemon."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

VIRTUAL_LAB = REPO_ROOT / "share" / "virtual-lab"
sys.path.insert(0, str(VIRTUAL_LAB))
import boards  # noqa: E402
from processes import processes_naming  # noqa: E402

PDUCLIENT = Path(sys.executable).parent / "pduclient"


def lab_file(tmp_path: Path, **changes) -> Path:
    data = {
        "state_dir": "state",
        "pdu": {"port": 26999},
        "ser2net": {"control_port": 27998},
        "boards": [{"name": "b1", "kind": "qemu-uboot-arm64", "outlet": 1, "telnet_port": 27999, "tftp_root": "tftp"}],
    }
    data.update(changes)
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_shipped_example_is_valid():
    config = boards.load_config(VIRTUAL_LAB / "lab.yaml")
    assert [(b.name, b.outlet, b.telnet_port) for b in config.boards] == [("uboot-arm64-01", 1, 7101)]


def test_paths_are_relative_to_the_file_and_the_files_describe_every_board(tmp_path):
    config = boards.load_config(lab_file(tmp_path))
    assert config.state_dir == tmp_path / "state"
    board = config.boards[0]
    assert board.tftp_root == tmp_path / "tftp"
    ser2net = yaml.safe_load(boards.ser2net_yaml(config).replace("%YAML 1.1\n", ""))
    assert ser2net["connection"]["accepter"] == "telnet(rfc2217),tcp,127.0.0.1,27999"
    assert ser2net["connection"]["connector"] == f"serialdev,{config.line(board)},115200n81,local"
    pdu = json.loads(boards.pdudaemon_conf(config))
    assert pdu["daemon"] == {"hostname": "127.0.0.1", "port": 26999, "logging_level": "INFO", "listener": "http"}
    assert pdu["pdus"]["lab-pdu"]["driver"] == "localcmdline"
    assert pdu["pdus"]["lab-pdu"]["cmd_on"].endswith(f"board-power.sh {config.state_dir} on %s")
    assert pdu["aliases"] == {"b1": {"hostname": "lab-pdu", "port": 1}}
    script = boards.outlet_script(config, board)
    assert f"tftp={board.tftp_root}" in script and f"path={config.uart(board)}" in script
    assert "-accel tcg" in script and "-daemonize -pidfile" in script


@pytest.mark.parametrize(("changes", "message"), [
    ({"boards": [{"name": "b 1", "outlet": 1, "telnet_port": 1, "tftp_root": "t"}]}, "boards[0].name: 'b 1'"),
    ({"boards": [{"name": "b", "outlet": 0, "telnet_port": 1, "tftp_root": "t"}]}, "boards[0].outlet: expected"),
    ({"boards": [{"name": "b", "outlet": 1, "telnet_port": 1}]}, "boards[0].tftp_root: missing"),
    ({"boards": [{"name": "b", "kind": "rpi", "outlet": 1, "telnet_port": 1, "tftp_root": "t"}]},
     "boards[0].kind: unknown kind 'rpi'"),
    ({"boards": [{"name": "a", "outlet": 1, "telnet_port": 1, "tftp_root": "t"},
                 {"name": "b", "outlet": 1, "telnet_port": 2, "tftp_root": "t"}]}, "boards: outlet used twice: 1"),
    ({"pdu": {"port": "x"}}, "pdu.port: expected a number"),
])
def test_mistakes_name_the_file_and_the_key(tmp_path, changes, message):
    path = lab_file(tmp_path, **changes)
    with pytest.raises(boards.ConfigError) as exc:
        boards.load_config(path)
    assert str(exc.value).startswith(f"{path}: ") and message in str(exc.value)


def test_the_command_line_reports_a_bad_file_without_a_traceback(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text("boards: [\n")
    result = subprocess.run([sys.executable, str(VIRTUAL_LAB / "virtual_lab.py"), "check", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith(f"virtual_lab.py: {path}: not valid YAML") and "Traceback" not in result.stderr


@pytest.mark.qemu
def test_a_board_powered_by_the_pdu_talks_through_ser2net_and_unplugs_when_left_off(tmp_path):
    for tool in ("ser2net", "socat", "telnet", "qemu-system-aarch64"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (share/ci/setup-host.sh)")
    if not boards.UBOOT_ARM64.exists():
        pytest.skip("u-boot-qemu is not installed")
    install = subprocess.run(["sh", str(VIRTUAL_LAB / "install-pdudaemon.sh")], capture_output=True, text=True)
    if install.returncode != 0:
        pytest.skip(f"pdudaemon cannot be installed here: {install.stderr[-300:]}")
    path = lab_file(tmp_path)
    command = [sys.executable, str(VIRTUAL_LAB / "virtual_lab.py")]
    pdu = [str(PDUCLIENT), "--daemon", "127.0.0.1:26999", "--hostname", "lab-pdu", "--port", "1", "--command"]
    assert subprocess.run([*command, "start", str(path)], timeout=90).returncode == 0
    try:
        console = pexpect.spawn("telnet localhost 27999", encoding="utf-8", timeout=30, codec_errors="replace")
        console.expect("Escape character is")
        subprocess.run([*pdu, "on"], check=True, timeout=30)
        console.expect("Hit any key to stop autoboot")
        console.send(" ")
        console.expect("=> ")
        # an off/on cycle keeps the console
        subprocess.run([*pdu, "reboot", "--delay", "0"], check=True, timeout=30)
        console.expect("Hit any key to stop autoboot")
        subprocess.run([*pdu, "off"], check=True, timeout=30)
        off = time.monotonic()
        console.expect(pexpect.EOF, timeout=15)
        assert 2.5 < time.monotonic() - off < 10
        assert processes_naming(f"path={tmp_path}/state/serial/b1-uart") == {}
        subprocess.run([*pdu, "on"], check=True, timeout=30)
        assert processes_naming(f"path={tmp_path}/state/serial/b1-uart")
    finally:
        subprocess.run([*command, "stop", str(path)], timeout=90)
    assert processes_naming(str(tmp_path)) == {}
