"""The x86 UEFI server: OVMF netboots GRUB EFI over TFTP, power through ipmitool -> ipmi_sim -> QEMU.

The board is the lab's own (``share/virtual-lab/uefi_board.py``), its console a
pty pair as the lab wires it; the device configuration is rendered from our
``grub-x86`` template with the lab's dictionary lines.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from testimages import LOGIN_PROMPT, PASSWORD, PASSWORD_PROMPT, PROMPT_REGEX, USERNAME, images

from lava_scheduler.device_config.render import render_device_yaml

from .helpers import REPO, job_result, results, run_lava
from .qemu_jobs import inline

sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import ipmi_bmc  # noqa: E402
import uefi_board  # noqa: E402
from boards import Board, LabConfig  # noqa: E402
from processes import processes_naming  # noqa: E402


def _port_pair() -> int:
    """A free port whose next one is free too (the BMC's LAN port and its link to QEMU)."""
    for _ in range(50):
        port = ipmi_bmc.free_port()
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


class Server:
    """One UEFI server: serial line (socat pty pair), BMC (ipmi_sim) and, once powered on, QEMU."""

    def __init__(self, root: Path) -> None:
        self.config = LabConfig(state_dir=root / "lab")
        self.board = Board(name="uefi-t", kind=uefi_board.KIND, outlet=1, telnet_port=1, tftp_root=root / "tftp",
                           options={"bmc_port": _port_pair()})
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        (self.config.state_dir / "serial").mkdir(parents=True, exist_ok=True)
        (self.config.state_dir / "outlets").mkdir(parents=True, exist_ok=True)
        uart, line = self.config.uart(self.board), self.config.line(self.board)
        self.processes.append(subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={uart}", f"pty,raw,echo=0,link={line}"]))
        self.bmc = uefi_board.prepare(self.config, self.board)
        self.processes.append(subprocess.Popen(self.bmc.command(), stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + 10
        while not (uart.exists() and ipmi_bmc.listening(self.bmc.vm_port)):
            assert time.monotonic() < deadline, "the serial line or the BMC did not come up"
            time.sleep(0.05)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in processes_naming(str(self.config.state_dir)):  # a QEMU the BMC left behind
            subprocess.run(["kill", "-9", str(pid)], check=False)

    def ipmitool(self, action: str, password: str | None = None) -> subprocess.CompletedProcess:
        command = self.bmc.ipmitool(action)
        if password is not None:
            command = command.replace(f"-P {self.bmc.password}", f"-P {password}")
        return subprocess.run(command.split(), capture_output=True, text=True, timeout=60)

    def qemu_pids(self) -> list[int]:
        return [pid for pid, cmd in processes_naming(str(self.config.state_dir)).items()
                if cmd.startswith("qemu-system")]

    def device(self, tmp_path: Path, *, password: str | None = None, lan_port: int | None = None) -> Path:
        ipmi = self.bmc.ipmitool("").rsplit(" ", 1)[0]
        if password is not None:
            ipmi = ipmi.replace(f"-P {self.bmc.password}", f"-P {password}")
        if lan_port is not None:
            ipmi = ipmi.replace(f"-p {self.bmc.lan_port}", f"-p {lan_port}")
        dictionary = (
            "{% extends 'grub-x86.jinja2' %}\n"
            f"{{% set connection_command = 'socat STDIO,raw,echo=0 {self.config.line(self.board)},raw,echo=0' %}}\n"
            f"{{% set power_on_command = '{ipmi} on' %}}\n"
            f"{{% set power_off_command = '{ipmi} off' %}}\n"
            f"{{% set hard_reset_command = '{ipmi} cycle' %}}\n"
            "{% set grub_tftp_server_ip = '10.0.2.2' %}\n"
            "{% set grub_final_message = 'Booting in blind mode' %}\n"
        )
        path = tmp_path / "device.yaml"
        path.write_text(render_device_yaml("uefi-t", dictionary))
        return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    reason = uefi_board.missing()
    if reason:
        pytest.skip(reason)
    if images() is None:
        pytest.skip("test images are not available")
    board = Server(tmp_path_factory.mktemp("uefi-server"))
    try:
        board.start()
        yield board
    finally:
        board.stop()
        assert processes_naming(str(board.config.state_dir)) == {}, "a process of the board outlived the test"


def logged_target(records: list[dict]) -> str:
    return "\n".join(str(r["msg"]) for r in records if r["lvl"] == "target")


def grub_job(definitions=None, method: str = "grub-efi") -> dict:
    imgs = images().x86_64
    actions = [
        {"deploy": {"to": "tftp", "kernel": {"url": f"file://{imgs.kernel}"},
                    "ramdisk": {"url": f"file://{imgs.initramfs_login}"}}},
        {"boot": {"method": method, "commands": "ramdisk", "prompts": [PROMPT_REGEX],
                  "auto_login": {"login_prompt": LOGIN_PROMPT, "username": USERNAME,
                                 "password_prompt": PASSWORD_PROMPT, "password": PASSWORD}}},
    ]
    if definitions:
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": definitions}})
    return {"job_name": f"{method} tftp", "device_type": "grub-x86", "visibility": "public",
            "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 4}, "connection": {"minutes": 2}},
            "actions": actions}


def test_bmc_switches_the_server_like_a_rack_server(server):
    """ipmitool -> ipmi_sim -> QEMU: status, on, reset (same QEMU, rebooted), off (QEMU gone)."""
    assert "Chassis Power is off" in server.ipmitool("status").stdout
    assert server.ipmitool("on").returncode == 0
    deadline = time.monotonic() + 20
    while "is on" not in server.ipmitool("status").stdout:
        assert time.monotonic() < deadline, "the BMC never reported the server on"
        time.sleep(0.5)
    pids = server.qemu_pids()
    assert len(pids) == 1
    assert server.ipmitool("reset").returncode == 0
    assert server.qemu_pids() == pids  # a reset reboots the machine, it does not replace it
    assert server.ipmitool("off").returncode == 0
    deadline = time.monotonic() + 20
    while server.qemu_pids() or "is off" not in server.ipmitool("status").stdout:
        assert time.monotonic() < deadline, "the server did not power off"
        time.sleep(0.5)
    refused = server.ipmitool("status", password="wrong")
    assert refused.returncode != 0


@pytest.mark.qemu
def test_grub_efi_boots_over_tftp_to_a_test_shell(server, tmp_path):
    job = grub_job([inline("smoke", ["lava-test-case kernel --shell uname -r",
                                     "lava-test-case efi --shell test -d /sys/firmware/efi"])])
    # the worker's tftp_root is the one the server's QEMU serves, as in the lab
    dispatcher = {"dispatcher_ip": "10.0.2.2", "tftp_root": str(server.board.tftp_root)}
    proc, records, _ = run_lava(tmp_path, job, server.device(tmp_path), dispatcher_extra=dispatcher)
    assert proc.returncode == 0, proc.stderr[-3000:]
    inputs = [r["msg"] for r in records if r["lvl"] == "input"]
    assert "net_bootp" in inputs
    assert "grub>" in logged_target(records)
    assert any(i.startswith("linux (tftp,10.0.2.2)/") and i.endswith(" ip=dhcp") and "/kernel/" in i for i in inputs)
    assert any(i.startswith("initrd (tftp,10.0.2.2)/") for i in inputs)
    logged = "\n".join(str(r["msg"]) for r in records)
    assert "ipmitool" in logged and "-P ****" in logged and server.bmc.password not in logged
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "kernel")] == "pass"
    assert found[("0_smoke", "efi")] == "pass"  # booted by UEFI firmware, not a BIOS
    assert job_result(records)["result"] == "pass"
    # the job powered the server off through the BMC: no QEMU left, the BMC says off
    assert server.qemu_pids() == []
    assert "is off" in server.ipmitool("status").stdout
    assert sorted(p.name for p in server.board.tftp_root.iterdir()) == ["boot"]  # the job's files are gone


@pytest.mark.parametrize("case", ["wrong password", "unreachable"])
def test_a_bmc_that_refuses_ends_the_job_incomplete_naming_it(server, tmp_path, case):
    if case == "wrong password":
        device, where = server.device(tmp_path, password="not-the-password"), f"127.0.0.1:{server.bmc.lan_port}"
    else:
        port = ipmi_bmc.free_port()
        device, where = server.device(tmp_path, lan_port=port), f"127.0.0.1:{port}"
    job = grub_job()
    job["timeouts"]["job"] = {"minutes": 2}
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, device)
    assert time.monotonic() - started < 120
    assert proc.returncode != 0
    result = job_result(records)
    assert result["result"] == "fail"
    assert result["error_type"] == "Infrastructure"
    assert f"the BMC {where} refused or did not answer" in result["error_msg"]
    assert "not-the-password" not in "\n".join(str(r["msg"]) for r in records)
    assert server.qemu_pids() == []


def test_a_grub_prompt_that_never_appears_ends_the_job_in_its_timeout(tmp_path):
    device = yaml.safe_load(render_device_yaml("silent-grub", (
        "{% extends 'grub-x86.jinja2' %}\n"
        "{% set connection_command = \"sh -c 'echo BdsDxe: failed to load Boot0001; sleep 1000'\" %}\n"
        "{% set power_on_command = 'true' %}\n{% set power_off_command = 'true' %}\n")))
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(device))
    job = grub_job()
    job["timeouts"] = {"job": {"minutes": 2}, "action": {"minutes": 1}, "connection": {"seconds": 5}}
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, path)
    assert time.monotonic() - started < 60
    result = job_result(records)
    assert result["result"] == "fail"
    assert "the GRUB prompt 'grub>'" in result["error_msg"]
    assert processes_naming("BdsDxe") == {}
