"""A real lava-coordinator daemon (python -m lava_common.coordinator) for tests, on a free local port."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from lava_common.coordinator.client import CoordinatorClient

REPO = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daemon:
    def __init__(self, tmp_path):
        self.port = free_port()
        self.config = tmp_path / "lava-coordinator.conf"
        self.config.write_text('{"port": 1, "blocksize": 16, "poll_delay": 3}')
        self.log = tmp_path / "coordinator.log"
        self.process = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "lava_common.coordinator", "--config", str(self.config), "--logfile",
                str(self.log), "--loglevel", "DEBUG", "--listen", "127.0.0.1", "--port", str(self.port)]

    def start(self):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(self.command(), env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"coordinator did not start: {self.log.read_text()}")

    def stop(self):
        self.process.terminate()
        assert self.process.wait(10) == 0

    def client(self):
        return CoordinatorClient("127.0.0.1", self.port, blocksize=16, poll_delay=0.05)

    def config_for_clients(self, path):
        """A lava-coordinator.conf pointing at this daemon, as a worker would have."""
        path.write_text(f'{{"port": {self.port}, "poll_delay": 0.05, "coordinator_hostname": "127.0.0.1"}}')
        return path


INSTALLED_DEBIAN_COORDINATOR = Path("/usr/bin/lava-coordinator")


class InstalledDebianDaemon(Daemon):
    """Debian's installed lava-coordinator program, with a private configuration file on a free port
    (it takes --config; /etc stays untouched), run as a service would: its own Python, not ours."""

    def command(self) -> list[str]:
        self.config.write_text(f'{{"port": {self.port}, "blocksize": 4096, "coordinator_hostname": "127.0.0.1"}}')
        return [str(INSTALLED_DEBIAN_COORDINATOR), "--config", str(self.config), "--logfile", str(self.log),
                "--loglevel", "DEBUG"]

    def start(self):
        # neither our PYTHONPATH nor a cwd holding our lava_common may shadow Debian's modules
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        self.process = subprocess.Popen(self.command(), env=env, cwd=self.config.parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise AssertionError(f"Debian's lava-coordinator did not start: {self.log.read_text() if self.log.exists() else ''}")

    def stop(self):
        # it does not end on SIGTERM while its accept() waits; nothing of it needs a clean exit
        self.process.kill()
        self.process.wait(10)
