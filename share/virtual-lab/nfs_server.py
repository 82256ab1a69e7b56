"""An NFS server for boards that boot their root filesystem over NFS: nfs-ganesha, in userspace.

The kernel's NFS server cannot run on the lab's hosts; ganesha can. It serves
NFSv4 only (no rpcbind, no privileged ports) on the port given, exporting one
folder read-write without root squashing; that folder is the worker's
``nfs_root`` (dispatcher.yaml), under which each job extracts its root
filesystem into a folder of its own. Its pseudo path is the folder's own path,
so a board mounts ``<server>:<nfs_root>/<job folder>`` and nothing is reloaded
between jobs.

Everything it writes (configuration, pid file, log, NFSv4 recovery data) lives
under ``state_dir``; the host's /etc/ganesha and /var/lib/nfs are never read
or written.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

GANESHA = "ganesha.nfsd"
READY_TIMEOUT = 15.0


class NfsServerError(Exception):
    """ganesha is absent or did not start; the message says why and where its log is."""


def ganesha_conf(export_root: Path, port: int, state_dir: Path, listen: str = "127.0.0.1") -> str:
    return f"""\
NFS_CORE_PARAM {{
    Protocols = 4;
    NFS_Port = {port};
    Bind_addr = {listen};
    Enable_NLM = false;
    Enable_RQUOTA = false;
}}
NFSV4 {{
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = "{state_dir / 'recovery'}";
}}
EXPORT_DEFAULTS {{
    SecType = sys;
}}
EXPORT {{
    Export_Id = 1;
    Path = "{export_root}";
    Pseudo = "{export_root}";
    Protocols = 4;
    Transports = TCP;
    Access_Type = RW;
    Squash = No_Root_Squash;
    FSAL {{ Name = VFS; }}
}}
LOG {{
    Default_Log_Level = EVENT;
}}
"""


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class GaneshaServer:
    """``start()`` then ``stop()``; ``stop()`` is safe to call whatever ``start()`` did."""

    def __init__(self, export_root: Path, port: int, state_dir: Path, listen: str = "127.0.0.1") -> None:
        self.export_root = export_root.resolve()
        self.port = port
        self.state_dir = state_dir
        self.listen = listen
        self.process: subprocess.Popen | None = None

    @property
    def log_file(self) -> Path:
        return self.state_dir / "ganesha.log"

    def prepare(self) -> list[str]:
        """Write the configuration; ganesha's argv (foreground, its log and pid file under ``state_dir``)."""
        binary = shutil.which(GANESHA) or shutil.which(GANESHA, path="/usr/bin:/usr/sbin")
        if binary is None:
            raise NfsServerError(f"{GANESHA} is not installed (apt-get install nfs-ganesha nfs-ganesha-vfs)")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "recovery").mkdir(exist_ok=True)
        self.export_root.mkdir(parents=True, exist_ok=True)
        config = self.state_dir / "ganesha.conf"
        config.write_text(ganesha_conf(self.export_root, self.port, self.state_dir, self.listen))
        return [binary, "-F", "-f", str(config), "-L", str(self.log_file), "-p", str(self.state_dir / "ganesha.pid")]

    def ready(self) -> bool:
        return port_open(self.listen, self.port)

    def start(self) -> None:
        """Run ganesha as a child of this process (tests); the virtual lab supervises it with its others."""
        self.process = subprocess.Popen(
            self.prepare(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        end = time.monotonic() + READY_TIMEOUT
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > end:
                self.stop()
                raise NfsServerError(f"{GANESHA} did not start on {self.listen}:{self.port} (log: {self.log_file})")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
