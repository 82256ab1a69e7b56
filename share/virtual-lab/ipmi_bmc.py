"""A virtual server's BMC: OpenIPMI's ``ipmi_sim`` speaking IPMI over LAN, wired to the board's QEMU.

``ipmitool -I lanplus -H 127.0.0.1 -p LAN_PORT -U USER -P PASSWORD chassis
power on|off|reset|status`` switches the board exactly as it would a rack
server's BMC: "on" makes ipmi_sim run the board's QEMU (its ``startcmd``),
"off" and "reset" reach QEMU over the ``ipmi-bmc-extern`` channel (a TCP
socket QEMU connects to), and the status is whether that QEMU is attached.
Every file (lan.conf, the command file, persistent state) is private to one
BMC folder; nothing under /etc or /var is read or written.
"""

from __future__ import annotations

import shlex
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

IPMI_SIM = "ipmi_sim"
# seconds ipmi_sim gives a powered-off guest to go away by itself before it kills it
POWEROFF_WAIT = 5
KILL_WAIT = 2

# one BMC (management controller 0x20) with a system event log; ipmi_sim starts empty otherwise
_EMU = """mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair() -> int:
    """A free port whose next one is free too (a BMC's LAN port and its link to QEMU)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise OSError("no two consecutive free ports on 127.0.0.1")


def listening(port: int) -> bool:
    """Whether a TCP socket listens on ``port``, asked of the kernel: a probe connection would reach
    ipmi_sim's VM channel as a guest attaching and leaving, which it takes for power on and off."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(fields[1].endswith(wanted) and fields[3] == "0A" for fields in map(str.split, rows)):
            return True
    return False


@dataclass(frozen=True)
class Bmc:
    name: str  # the BMC's name (ipmi_sim keeps its persistent state under it)
    folder: Path  # its private config and state
    lan_port: int  # IPMI over LAN (RMCP+), what ipmitool talks to
    vm_port: int  # the channel QEMU's ipmi-bmc-extern connects to
    user: str
    password: str
    listen: str = "127.0.0.1"

    def qemu_args(self) -> list[str]:
        """What the board's QEMU adds to be attached to this BMC (QEMU reconnects after each power-on)."""
        return [
            "-chardev", f"socket,id=bmc-link,host={self.listen},port={self.vm_port},reconnect=1",
            "-device", "ipmi-bmc-extern,chardev=bmc-link,id=bmc0",
            "-device", "isa-ipmi-kcs,bmc=bmc0",
        ]

    def lan_conf(self, startcmd: list[str]) -> str:
        auths = "none md2 md5 straight"
        command = " ".join(shlex.quote(arg) for arg in startcmd)
        if '"' in command or "\\" in command:
            raise ValueError(f"BMC {self.name}: the start command cannot hold '\"' or '\\' (lan.conf quoting)")
        return "\n".join([
            f'name "{self.name}"',
            "set_working_mc 0x20",
            "  startlan 1",
            f"    addr {self.listen} {self.lan_port}",
            "    priv_limit admin",
            f"    allowed_auths_callback {auths}",
            f"    allowed_auths_user {auths}",
            f"    allowed_auths_operator {auths}",
            f"    allowed_auths_admin {auths}",
            "    guid a123456789abcdefa123456789abcdef",
            "  endlan",
            f"  serial 15 {self.listen} {self.vm_port} codec VM",
            f'  startcmd "{command}"',
            "  startnow false",
            f"  poweroff_wait {POWEROFF_WAIT}",
            f"  kill_wait {KILL_WAIT}",
            f'  user 2 true "{self.user}" "{self.password}" admin 10 {auths}',
            "",
        ])

    def write(self, startcmd: list[str]) -> None:
        (self.folder / "state").mkdir(parents=True, exist_ok=True)
        (self.folder / "lan.conf").write_text(self.lan_conf(startcmd))
        (self.folder / "bmc.emu").write_text(_EMU)

    def command(self) -> list[str]:
        """ipmi_sim in the foreground (``-n``: no console on stdin), reading only this BMC's files."""
        return [IPMI_SIM, "-n", "-c", str(self.folder / "lan.conf"), "-f", str(self.folder / "bmc.emu"),
                "-s", str(self.folder / "state")]

    def ipmitool(self, action: str) -> str:
        """The ``chassis power`` command line a device dictionary gives the dispatcher."""
        # -C 3: the cipher suite ipmi_sim speaks; without it ipmitool spends 3 s asking for the list first
        return (f"ipmitool -I lanplus -C 3 -H {self.listen} -p {self.lan_port} -U {self.user} -P {self.password} "
                f"-N 1 -R 2 chassis power {action}")


def available() -> str | None:
    """Why a BMC cannot run here, or None."""
    missing = [tool for tool in (IPMI_SIM, "ipmitool") if shutil.which(tool) is None]
    return f"not installed: {', '.join(missing)} (packages openipmi, ipmitool)" if missing else None
