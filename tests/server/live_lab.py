"""A lab of real processes for end-to-end tests: lava-master, lava-scheduler, lava-worker, lava-run.

They share the test's PostgreSQL database (tests using this run with
``transaction=True`` so that what the test writes is committed) and a
configuration folder in a temporary directory.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.conftest import REPO_ROOT
from tests.testimages import images_dir

BIN = Path(sys.executable).parent
TEST_DEVICE_TYPES = Path(__file__).parent / "device-types"
LAVACLI = shutil.which("lavacli", path=str(BIN))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@dataclass
class LiveLab:
    root: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.config = self.root / "etc"
        self.state = self.root / "state"
        # plain text goes over a unix socket in a folder only this user enters (the master checks that);
        # CURVE over TCP. The folder is short: a unix socket path has at most 107 bytes
        self.socket_dir = Path(tempfile.mkdtemp(prefix="lava-lab-"))
        self.master_ipc = f"ipc://{self.socket_dir}/master.sock"
        self.master_url = f"tcp://127.0.0.1:{free_port()}"
        self.master_events = f"tcp://127.0.0.1:{free_port()}"
        self.scheduler_events = f"tcp://127.0.0.1:{free_port()}"
        # the workers' lava-run find the lab's coordinator (start_coordinator) through this file
        self.coordinator_port = free_port()
        self.coordinator_config = self.root / "lava-coordinator.conf"
        self.coordinator_config.parent.mkdir(parents=True, exist_ok=True)
        self.coordinator_config.write_text(
            f'{{"port": {self.coordinator_port}, "poll_delay": 0.2, "coordinator_hostname": "127.0.0.1"}}'
        )
        for folder in ("devices", "device-types", "health-checks"):
            (self.config / "dispatcher-config" / folder).mkdir(parents=True)
        for template in TEST_DEVICE_TYPES.glob("*.jinja2"):
            shutil.copy(template, self.config / "dispatcher-config" / "device-types")
        self.env = dict(
            os.environ,
            LAVA_DATABASE_URL=database_url(),
            LAVA_STATE_DIR=str(self.state),
            LAVA_CONFIG_DIR=str(self.config),
            LAVA_MASTER_BIND=self.master_url,
            LAVA_MASTER_EVENTS=self.master_events,
            LAVA_SCHEDULER_EVENTS=self.scheduler_events,
            PATH=f"{BIN}:{os.environ.get('PATH', '')}",
        )

    def configure_test_process(self, test_settings) -> None:
        """Point this (the test's) process at the same configuration as the daemons."""
        dispatcher_config = self.config / "dispatcher-config"
        test_settings.CONFIG_DIR = self.config
        test_settings.STATE_DIR = self.state
        test_settings.DEVICES_PATH = dispatcher_config / "devices"
        test_settings.HEALTH_CHECKS_PATH = dispatcher_config / "health-checks"
        test_settings.DEVICE_TYPES_PATHS = [dispatcher_config / "device-types", *settings.DEVICE_TYPES_PATHS]
        test_settings.DISPATCHER_D = self.config / "dispatcher.d"
        test_settings.JOB_OUTPUT_DIR = self.state / "media" / "job-output"
        test_settings.MASTER_EVENTS = self.master_events
        test_settings.SCHEDULER_EVENTS = self.scheduler_events

    def add_dispatcher_config(self, worker: str) -> None:
        folder = self.config / "dispatcher.d" / worker
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dispatcher.yaml").write_text(
            f"dispatcher_download_dir: {self.root / 'dispatcher' / worker / 'tmp'}\n"
            f"tftp_root: {self.root / 'dispatcher' / worker / 'tftp'}\n"
            f"coordinator_config: {self.coordinator_config}\n"
        )

    def write_dictionary(self, hostname: str, text: str) -> None:
        (self.config / "dispatcher-config" / "devices" / f"{hostname}.jinja2").write_text(text)

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command, env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.processes[name] = process
        return process

    def start_master(self, *extra: str) -> None:
        """Plain text on the unix socket, or with ``extra`` (CURVE options) on TCP."""
        args = list(extra) or ["--plaintext", "--bind", self.master_ipc]
        self._start("master", [str(BIN / "lava-server"), "manage", "lava-master", "--level", "DEBUG", *args])

    def start_scheduler(self) -> None:
        self._start("scheduler", [str(BIN / "lava-server"), "manage", "lava-scheduler", "--level", "DEBUG"])

    def start_coordinator(self) -> None:
        self._start("coordinator", [sys.executable, "-m", "lava_common.coordinator", "--config",
                                    str(self.coordinator_config), "--logfile", "-", "--loglevel", "DEBUG",
                                    "--listen", "127.0.0.1"])

    def start_worker(self, name: str, *extra: str, label: str | None = None) -> None:
        """Plain text on the unix socket, or with ``extra`` (CURVE options) on TCP; jobs may read the
        test images with file:// URLs.

        ``label`` (default: the name) names the process and its worker folder, for two processes that
        give the same name.
        """
        args = list(extra) or ["--plaintext"]
        if images_dir().is_dir():
            args += ["--allow-file-dir", str(images_dir())]
        master = self.master_url if extra else self.master_ipc
        label = label or name
        self._start(
            f"worker-{label}",
            [str(BIN / "lava-worker"), "--master", master, "--name", name,
             "--worker-dir", str(self.root / "worker" / label), "--heartbeat", "1", "--level", "DEBUG", *args],
        )

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, sig) if sig == signal.SIGKILL else process.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(f"==== {p.name}\n{p.read_text(errors='replace')[-6000:]}" for p in self.root.glob("*.log"))


def wait_for(predicate, timeout: float, what: str, lab: LiveLab | None = None, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{lab.logs() if lab else ''}")


class Cli:
    """lavacli with its own configuration folder (XDG_CONFIG_HOME), as a user would run it."""

    def __init__(self, home: Path, uri: str):
        self.home = home
        self.uri = uri
        self.env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "PATH": "/usr/bin:/bin"}

    def __call__(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run([LAVACLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"lavacli {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def identity(self, name: str = "default", username: str | None = None, token: str | None = None) -> None:
        args = ["identities", "add", name, "--uri", self.uri]
        if username:
            args += ["--username", username, "--token", token]
        self(*args)


def start_web(lab: LiveLab) -> str:
    port = free_port()
    lab._start("web", [str(BIN / "lava-server"), "manage", "runserver", "--noreload", f"127.0.0.1:{port}"])
    uri = f"http://127.0.0.1:{port}/RPC2"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v0.2/system/version/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # up, if only to refuse anonymous callers (LOGIN_REQUIRED)
        except OSError:
            return False

    wait_for(answers, 60, "web server up", lab, interval=0.2)
    return uri
