#!/usr/bin/env python3
"""Run the serial lines, ser2net and pdudaemon of a virtual lab described by one YAML file.

    virtual_lab.py run CONFIG      in the foreground; Ctrl-C or SIGTERM stops everything
    virtual_lab.py start CONFIG    the same in the background (pid in STATE_DIR/virtual-lab.pid)
    virtual_lab.py stop CONFIG     stop a background lab, its boards included
    virtual_lab.py check CONFIG    validate the file and print what it describes

Each board gets a pty pair (socat): QEMU opens one end as its UART, ser2net
serves the other on a telnet port. pdudaemon switches outlets with the
localcmdline driver, which runs board-power.sh. A board that stays off while a
console client is connected is "unplugged": ser2net drops that client, as a
board whose USB serial adapter loses power would, so a dispatcher sees its
console close (an infrastructure error) instead of waiting for a timeout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import boards  # noqa: E402
import ipmi_bmc  # noqa: E402
import uefi_board  # noqa: E402
from boards import POWER_SCRIPT, ConfigError, LabConfig, load_config  # noqa: E402
from nfs_server import READY_TIMEOUT, GaneshaServer  # noqa: E402
from processes import ChildProcesses, kill_strays, wait_until  # noqa: E402
from ssh_host import SshHost  # noqa: E402

# longer than an off/on power cycle (pduclient reboot --delay 0, or power_off then power_on)
UNPLUG_AFTER = 3.0


def pdudaemon_command() -> str:
    """pdudaemon next to this Python, in the cache install-pdudaemon.sh fills, or on PATH."""
    candidates = [
        os.environ.get("PDUDAEMON", ""),
        str(Path(sys.executable).parent / "pdudaemon"),
        str(Path(os.environ.get("LAVA_PDUDAEMON_VENV", Path.home() / ".cache" / "lava" / "pdudaemon"))
            / "bin" / "pdudaemon"),
        shutil.which("pdudaemon") or "",
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigError("pdudaemon is not installed: run share/virtual-lab/install-pdudaemon.sh")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def nfs_servers(config: LabConfig) -> dict[str, GaneshaServer]:
    """One nfs-ganesha per export folder and port that the boards asking for one (``nfs_server: true``) name."""
    servers: dict[str, GaneshaServer] = {}
    for board in config.boards:
        options = board.options
        if not options.get("nfs_server"):
            continue
        if "nfs_root" not in options or "nfs_port" not in options:
            raise ConfigError(f"boards[{board.name}]: nfs_server needs nfs_root (the worker's) and nfs_port")
        port = int(options["nfs_port"])
        name = f"nfs-ganesha-{port}"
        if name not in servers:
            # listen on 127.0.0.1: the boards' QEMU user network reaches it as 10.0.2.2
            servers[name] = GaneshaServer(Path(options["nfs_root"]), port, config.state_dir / name, config.listen)
    return servers


class Ser2netControl:
    """ser2net's control port: who is connected to a board's console, and dropping them."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)

    def _ask(self, command: str) -> str:
        with socket.create_connection(self.address, timeout=2) as sock:
            # half-close rather than "exit": ser2net drops the reply of a command followed by "exit"
            sock.sendall(f"{command}\r\n".encode())
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while data := sock.recv(65536):
                chunks.append(data)
        return b"".join(chunks).decode("utf-8", "replace")

    def client_of(self, board: str) -> str | None:
        for line in self._ask("showshortport").splitlines():
            fields = line.replace("-> ", "").split()
            if len(fields) > 3 and fields[0] == board:
                return None if fields[3] == "unconnected" else fields[3]
        return None

    def disconnect(self, board: str) -> None:
        self._ask(f"disconnect {board}")


class VirtualLab:
    """The processes of one lab; ``start()``, then ``failed()`` now and then, ``stop()`` at the end."""

    def __init__(self, config: LabConfig, log=print) -> None:
        self.config = config
        self.log = log
        self.children = ChildProcesses(config.state_dir / "logs")
        self.control = Ser2netControl(config.listen, config.control_port)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.ssh_hosts: list[SshHost] = []

    def start(self) -> None:
        config = self.config
        boards.write_files(config)
        pdudaemon = pdudaemon_command()
        for board in config.boards:
            for path in (config.uart(board), config.line(board)):
                path.unlink(missing_ok=True)
            self.children.start(f"serial-{board.name}", [
                "socat", f"pty,raw,echo=0,link={config.uart(board)}", f"pty,raw,echo=0,link={config.line(board)}",
            ])
            wait_until(lambda b=board: config.uart(b).exists() and config.line(b).exists(), 5,
                       f"the serial line of {board.name}", self.children)
        self.children.start("ser2net", [
            "ser2net", "-n", "-u", "-c", str(config.state_dir / "ser2net.yaml"),
            "-p", f"{config.listen},{config.control_port}",
        ])
        wait_until(lambda: port_open(config.listen, config.control_port), 10, "ser2net", self.children)
        self.children.start("pdudaemon", [pdudaemon, "--conf", str(config.state_dir / "pdudaemon.conf")])
        wait_until(lambda: port_open(config.listen, config.pdu_port), 30, "pdudaemon", self.children)
        for name, server in nfs_servers(config).items():
            self.children.start(name, server.prepare())
            wait_until(server.ready, READY_TIMEOUT, f"nfs-ganesha on port {server.port}", self.children)
            self.log(f"NFS server: {server.listen}:{server.port} exports {server.export_root} (NFSv4)")
        for board in config.boards:
            if board.kind == uefi_board.KIND:  # a server: its power is its BMC's, not an outlet's
                if reason := uefi_board.missing():
                    raise ConfigError(f"board {board.name}: {reason}")
                bmc = uefi_board.prepare(config, board)
                self.children.start(f"bmc-{board.name}", bmc.command())
                wait_until(lambda b=bmc: ipmi_bmc.listening(b.vm_port), 10, f"the BMC of {board.name}",
                           self.children)
        self._watcher = threading.Thread(target=self._watch_power, name="unplug", daemon=True)
        self._watcher.start()
        for board in config.boards:
            power = (f"BMC {config.listen}:{uefi_board.bmc_of(config, board).lan_port} (IPMI)"
                     if board.kind == uefi_board.KIND else f"PDU {config.pdu_hostname} outlet {board.outlet}")
            self.log(f"board {board.name}: console telnet {config.listen} {board.telnet_port}, {power}")
        for entry in config.ssh_hosts:
            # under the state dir: its files name it, so kill_strays finds an sshd a crash left behind
            host = SshHost(config.state_dir / entry["name"], entry["port"], address=config.listen)
            try:
                host.start()
            except RuntimeError as exc:
                raise ConfigError(f"ssh host {entry['name']}: {exc}") from None
            self.ssh_hosts.append(host)
            self.log(f"ssh host {entry['name']}: sshd on {config.listen}:{host.port}, key {host.identity_file}")

    def failed(self) -> str | None:
        """The name of a process that ended by itself, if any."""
        for host in self.ssh_hosts:
            if host.process is not None and host.process.poll() is not None:
                return f"sshd of {host.directory.name}"
        return self.children.ended()

    def power_off_all(self) -> None:
        for board in self.config.boards:
            subprocess.run(["sh", str(POWER_SCRIPT), str(self.config.state_dir), "off", str(board.outlet)],
                           check=False, timeout=30)

    def stop(self) -> None:
        self._stop.set()
        if self._watcher:
            self._watcher.join(timeout=2)
        self.power_off_all()
        for host in self.ssh_hosts:
            host.stop()
        self.children.stop_all()
        kill_strays(str(self.config.state_dir))

    def _board_on(self, outlet: int) -> bool:
        pid_file = self.config.state_dir / "outlets" / f"{outlet}.pid"
        try:
            stat = Path(f"/proc/{int(pid_file.read_text())}/stat").read_text()
        except (OSError, ValueError):
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    def _watch_power(self) -> None:
        # name -> (when it went off, the console client connected at that moment)
        off: dict[str, tuple[float, str | None]] = {}
        while not self._stop.wait(0.25):
            for board in self.config.boards:
                if self._board_on(board.outlet):
                    off.pop(board.name, None)
                    continue
                try:
                    if board.name not in off:
                        off[board.name] = (time.monotonic(), self.control.client_of(board.name))
                        continue
                    since, client = off[board.name]
                    if client and time.monotonic() - since > UNPLUG_AFTER:
                        # only the client that watched the board go down: a new job may have connected since
                        if self.control.client_of(board.name) == client:
                            self.log(f"board {board.name}: powered off with its console open; dropping {client}")
                            self.control.disconnect(board.name)
                        off[board.name] = (since, None)
                except OSError:
                    continue  # ser2net is restarting or gone: failed() reports it
                except Exception as exc:  # the watcher must outlive a surprise; say it, keep watching
                    self.log(f"board {board.name}: power watcher: {type(exc).__name__}: {exc}")


def run(config: LabConfig) -> int:
    lab = VirtualLab(config, log=lambda m: print(f"[virtual-lab] {m}", flush=True))

    def terminate(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        lab.start()
        (config.state_dir / "ready").touch()
        while (name := lab.failed()) is None:
            time.sleep(0.5)
        print(f"[virtual-lab] {name} ended unexpectedly (log: {config.state_dir / 'logs' / name}.log)", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except ConfigError as exc:
        print(f"virtual_lab.py: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        (config.state_dir / "ready").unlink(missing_ok=True)
        lab.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["run", "start", "stop", "check"])
    parser.add_argument("config", type=Path)
    args = parser.parse_args()
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"virtual_lab.py: {exc}", file=sys.stderr)
        return 1
    pid_file = config.state_dir / "virtual-lab.pid"
    if args.action == "run":
        return run(config)
    if args.action == "check":
        for board in config.boards:
            print(f"{board.name}: {board.kind}, outlet {board.outlet}, telnet {config.listen}:{board.telnet_port}")
        return 0
    if args.action == "start":
        from processes import start_detached

        return start_detached([sys.executable, str(Path(__file__).resolve()), "run", str(args.config)],
                              config.state_dir, pid_file)
    from processes import stop_detached

    stop_detached(pid_file)
    kill_strays(str(config.state_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
