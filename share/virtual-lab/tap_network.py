"""A worker's tap network for one QEMU board: a tap interface, its host address and a DHCP server.

What a lab's admin sets up for a device whose dictionary says ``tap_interface``
(device-types/qemu.jinja2), made and removed by the run itself:

* ``ip tuntap add NAME mode tap``: a persistent tap that QEMU opens with
  ``-net tap,ifname=NAME,script=no,downscript=no`` (no bridge, no helper, no
  /etc/qemu/bridge.conf, no host script); it needs root, which the run has;
* the host side gets ``<subnet>.1/24`` on a /24 no interface or route of the
  host uses yet: the board reaches the worker's services (NFS, HTTP) there;
* ``dnsmasq`` bound to that interface only (DNS off, a private configuration,
  lease file and log under ``state_dir``) gives the board ``<subnet>.15``.

``stop()`` ends dnsmasq and deletes the tap (its address and route go with
it), whatever ``start()`` reached.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

DNSMASQ = "dnsmasq"
TUN = Path("/dev/net/tun")
# /24s tried in turn for the host side: private space the lab's user networks (10.0.2.0/24) do not use
CANDIDATE_SUBNETS = [ipaddress.ip_network(f"172.31.{n}.0/24") for n in range(16, 256)]
BOARD_HOST_PART = 15
READY_TIMEOUT = 10.0
# networks of one process (corpus-run --jobs N) pick their /24 one at a time
SUBNET_LOCK = threading.Lock()


class TapNetworkError(Exception):
    """The tap network could not be made; the message says why."""


def missing() -> str:
    """Why no tap network can be made here, or ""."""
    if os.geteuid() != 0:
        return "a tap interface needs root"
    if not TUN.exists():
        return f"{TUN} is missing"
    if shutil.which(DNSMASQ) is None:
        return "dnsmasq is not installed"
    return ""


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


def _used_networks() -> list[ipaddress.IPv4Network]:
    text = _ip("-4", "-o", "addr", "show").stdout + _ip("-4", "route", "show", "table", "all").stdout
    used = []
    for word in text.split():
        try:
            used.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    return [net for net in used if isinstance(net, ipaddress.IPv4Network)]


class TapNetwork:
    """``start()`` then ``stop()``; ``stop()`` is safe to call whatever ``start()`` did."""

    def __init__(self, name: str, state_dir: Path) -> None:
        if len(name) > 15:
            raise ValueError(f"interface name {name!r} is longer than 15 characters")
        self.name = name
        self.state_dir = state_dir
        self.subnet: ipaddress.IPv4Network | None = None
        self.dnsmasq: subprocess.Popen | None = None
        self.created = False

    @property
    def host_ip(self) -> str:
        return str(self.subnet[1])

    @property
    def board_ip(self) -> str:
        return str(self.subnet[BOARD_HOST_PART])

    @property
    def lease_file(self) -> Path:
        return self.state_dir / "dnsmasq.leases"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "dnsmasq.log"

    def start(self) -> None:
        if reason := missing():
            raise TapNetworkError(reason)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        proc = _ip("tuntap", "add", "dev", self.name, "mode", "tap")
        if proc.returncode != 0:
            raise TapNetworkError(f"ip tuntap add {self.name}: {proc.stderr.strip()}")
        self.created = True
        with SUBNET_LOCK:
            self._address()
        self._start_dnsmasq()

    def _address(self) -> None:
        # two processes may pick the same free /24 at once: the second's `ip addr add` then still succeeds,
        # so check again after adding and move on when another interface took it
        for subnet in CANDIDATE_SUBNETS:
            if any(subnet.overlaps(used) for used in _used_networks()):
                continue
            address = f"{subnet[1]}/{subnet.prefixlen}"
            if _ip("addr", "add", address, "dev", self.name).returncode != 0:
                continue
            others = _ip("-4", "-o", "addr", "show", "to", str(subnet)).stdout.splitlines()
            if any(line.split()[1] != self.name for line in others):
                _ip("addr", "del", address, "dev", self.name)
                continue
            self.subnet = subnet
            break
        else:
            raise TapNetworkError("no free /24 in 172.31.16.0/20..172.31.255.0/24 for the tap's host side")
        proc = _ip("link", "set", self.name, "up")
        if proc.returncode != 0:
            raise TapNetworkError(f"ip link set {self.name} up: {proc.stderr.strip()}")

    def _start_dnsmasq(self) -> None:
        cmd = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--user=root",
               f"--interface={self.name}", "--bind-interfaces", "--except-interface=lo",
               f"--dhcp-range={self.board_ip},{self.board_ip},{self.subnet.netmask},1h",
               f"--dhcp-option=option:router,{self.host_ip}", "--dhcp-authoritative", "--log-dhcp",
               f"--dhcp-leasefile={self.lease_file}", f"--log-facility={self.log_file}",
               f"--pid-file={self.state_dir / 'dnsmasq.pid'}"]
        self.dnsmasq = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=(self.state_dir / "dnsmasq.stderr").open("w"))
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.dnsmasq.poll() is not None:
                error = (self.state_dir / "dnsmasq.stderr").read_text().strip()
                raise TapNetworkError(f"dnsmasq on {self.name} exited: {error}")
            if self.log_file.exists() and "DHCP, IP range" in self.log_file.read_text(errors="replace"):
                return
            time.sleep(0.05)
        raise TapNetworkError(f"dnsmasq on {self.name} not ready after {READY_TIMEOUT:.0f} s (log: {self.log_file})")

    def stop(self) -> None:
        if self.dnsmasq is not None:
            if self.dnsmasq.poll() is None:
                self.dnsmasq.send_signal(signal.SIGTERM)
                try:
                    self.dnsmasq.wait(5)
                except subprocess.TimeoutExpired:
                    self.dnsmasq.kill()
                    self.dnsmasq.wait()
            self.dnsmasq = None
        if self.created:
            _ip("link", "del", self.name)
            self.created = False
