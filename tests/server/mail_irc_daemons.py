"""Debian's own mail and IRC servers for notification tests: aiosmtpd into a Maildir, ngircd.

Each runs as a process of its own on a free loopback port with a private
configuration under the test's folder, and is stopped by ``close()``.
"""

from __future__ import annotations

import mailbox
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.server.live_lab import free_port
from tests.server.notification_peers import Mail

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-aiosmtpd is for the system interpreter
NGIRCD = shutil.which("ngircd") or "/usr/sbin/ngircd"


def missing() -> str | None:
    """Why these daemons cannot run here, or None."""
    if not Path(NGIRCD).exists():
        return "ngircd is not installed (Debian package ngircd)"
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtpd"], capture_output=True).returncode == 0
    return None if found else "aiosmtpd is not installed (Debian package python3-aiosmtpd)"


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} does not answer on port {port}")


class SmtpDaemon:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.maildir = folder / "maildir"  # created by aiosmtpd's Mailbox handler
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, "aiosmtpd")

    @property
    def mails(self) -> list[Mail]:
        if not self.maildir.exists():
            return []
        return [Mail(str(m["X-MailFrom"]), str(m["X-RcptTo"]).split(", "), m)
                for m in mailbox.Maildir(self.maildir, create=False)]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class IrcDaemon:
    """ngircd, and a client logged in as ``listener`` recording the messages sent to it."""

    def __init__(self, folder: Path, listener: str) -> None:
        self.port = free_port()
        config = folder / "ngircd.conf"
        config.write_text(
            "[Global]\nName = irc.lab.test\nInfo = notification test server\n"
            f"Listen = 127.0.0.1\nPorts = {self.port}\n"
            "[Options]\nPAM = no\nIdent = no\nDNS = no\n"
        )
        self.process = subprocess.Popen([NGIRCD, "-n", "-f", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, "ngircd")
        self.messages: list[tuple[str, str, str]] = []  # (sender's nick, target, text)
        self.client = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.client.sendall(f"NICK {listener}\r\nUSER {listener} 0 * :test listener\r\n".encode())
        self._lines = self.client.makefile("r", encoding="utf-8", errors="replace", newline="\r\n")
        while " 001 " not in (line := self._lines.readline()):
            if not line:
                raise RuntimeError("ngircd closed the listener's connection before welcoming it")
        self.client.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._lines:
            line = line.rstrip("\r\n")
            if line.startswith("PING"):
                self.client.sendall(("PONG" + line[4:] + "\r\n").encode())
            prefix, _, rest = line.partition(" ")
            command, _, arguments = rest.partition(" ")
            if command == "PRIVMSG":
                target, _, text = arguments.partition(" :")
                self.messages.append((prefix.lstrip(":").split("!")[0], target, text))

    def close(self) -> None:
        try:
            self.client.sendall(b"QUIT\r\n")
        except OSError:
            pass
        self.client.close()
        self.process.terminate()
        self.process.wait(10)
