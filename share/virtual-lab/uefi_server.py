"""One UEFI server outside a lab, for tests and benchmarks: its serial line, its BMC, and QEMU once powered on.

The wiring is the lab's (``virtual_lab.py``): a socat pty pair is the serial
cable (QEMU opens one end, a console client the other), ``ipmi_sim`` is the
BMC and starts QEMU on ``chassis power on``. Everything lives under one
folder, and every process started names it, so ``stop()`` finds them all.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import ipmi_bmc
import uefi_board
from lab_config import Board, LabConfig
from processes import kill_strays, processes_naming


class UefiServer:
    def __init__(self, root: Path, name: str = "uefi-server", memory: int = 512) -> None:
        self.root = root
        self.config = LabConfig(state_dir=root / "lab")
        self.board = Board(name=name, kind=uefi_board.KIND, outlet=1, telnet_port=1, tftp_root=root / "tftp",
                           memory=memory, options={"bmc_port": ipmi_bmc.free_port_pair()})
        self.bmc = uefi_board.bmc_of(self.config, self.board)
        self.processes: list[subprocess.Popen] = []

    @property
    def line(self) -> Path:
        """The console end of the serial cable."""
        return self.config.line(self.board)

    def start(self, qemu_command: list[str] | None = None) -> None:
        """Serial line and BMC up; the BMC starts ``qemu_command`` (the lab board's by default) at power-on."""
        for folder in ("serial", "outlets"):
            (self.config.state_dir / folder).mkdir(parents=True, exist_ok=True)
        uart = self.config.uart(self.board)
        self.processes.append(subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={uart}", f"pty,raw,echo=0,link={self.line}"], start_new_session=True))
        uefi_board.prepare(self.config, self.board)
        if qemu_command is not None:
            self.bmc.write(qemu_command)
        self.processes.append(subprocess.Popen(self.bmc.command(), stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + 10
        while not (uart.exists() and ipmi_bmc.listening(self.bmc.vm_port)):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the serial line or the BMC of {self.board.name} did not come up")
            time.sleep(0.05)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        kill_strays(str(self.config.state_dir))  # a QEMU the BMC left behind

    def dictionary(self, device_type: str = "grub-x86", ipmitool: str | None = None) -> str:
        """Its device dictionary as the lab's (share/lab/catalog.py): the console on the serial line,
        power through the BMC (``ipmitool``: another command line for it, e.g. with a wrong password)."""
        ipmitool = ipmitool or self.bmc.ipmitool("").rsplit(" ", 1)[0]
        return (
            f"{{% extends '{device_type}.jinja2' %}}\n"
            f"{{% set connection_command = 'socat STDIO,raw,echo=0 {self.line},raw,echo=0' %}}\n"
            f"{{% set power_on_command = '{ipmitool} on' %}}\n"
            f"{{% set power_off_command = '{ipmitool} off' %}}\n"
            f"{{% set hard_reset_command = '{ipmitool} cycle' %}}\n"
            "{% set grub_tftp_server_ip = '10.0.2.2' %}\n"
            "{% set grub_final_message = 'Booting in blind mode' %}\n"
        )

    def ipmitool(self, action: str, password: str | None = None) -> subprocess.CompletedProcess:
        command = self.bmc.ipmitool(action).split()
        if password is not None:
            command[command.index("-P") + 1] = password
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def qemu_pids(self) -> list[int]:
        return [pid for pid, cmd in processes_naming(str(self.config.state_dir)).items()
                if cmd.startswith("qemu-system")]

    def leftovers(self) -> dict[int, str]:
        return processes_naming(str(self.config.state_dir))
