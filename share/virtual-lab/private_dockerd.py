"""A docker daemon of the lab's own, which leaves the host's docker and networking alone.

Everything it keeps lives under one scratch folder: ``--data-root``, the pid
file and the socket (``unix://<scratch>/docker.sock``, which the dispatcher
configuration names as ``docker_host``); ``--exec-root`` is in its private
``/run`` (containerd's socket paths must stay short). It changes no
host networking (``--iptables=false --ip6tables=false --bridge=none
--ip-forward=false``: containers get ``--network none`` unless a device
dictionary asks otherwise), and it runs in a mount namespace of its own where
a tmpfs covers ``/run`` and a scratch folder covers ``/etc/docker``: the
paths dockerd writes whatever its options say (``/run/docker/plugins``,
``/etc/docker/key.json``) stay private. Its containers' cgroups sit under a
parent named after the scratch folder, removed when the daemon stops.

Images come from tarballs (``docker import``): no registry is reachable.

    python share/virtual-lab/private_dockerd.py SCRATCH [--import TARBALL=TAG ...]

runs one in the foreground until SIGTERM/SIGINT (the lab's way: ``SCRATCH/ready``
exists while it serves, its images stay in SCRATCH as a cache); tests and
benchmarks use ``PrivateDockerd`` as a context manager.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"  # another `docker` may come first on PATH
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
CGROUP_ROOT = Path("/sys/fs/cgroup")
EXEC_ROOT = "/run/lava-dockerd"  # inside the daemon's mount namespace, where /run is a tmpfs of its own


def available() -> str | None:
    """Why a private dockerd cannot run here (None: it can)."""
    for tool in (DOCKERD, DOCKER, "/usr/bin/unshare"):
        if not Path(tool).exists():
            return f"{tool} is not installed"
    if os.geteuid() != 0:
        return "dockerd needs root"
    return None


class PrivateDockerd:
    def __init__(self, scratch: Path) -> None:
        self.scratch = Path(scratch)
        self.socket = self.scratch / "docker.sock"
        self.cgroup_parent = f"lava-dockerd-{self.scratch.name}"
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    def argv(self) -> list[str]:
        etc = self.scratch / "etc-docker"
        dockerd = [
            DOCKERD, "--config-file", str(self.scratch / "daemon.json"),
            # the exec root holds containerd's sockets, whose paths must stay short: the namespace's own /run
            "--data-root", str(self.scratch / "data"), "--exec-root", EXEC_ROOT,
            "--pidfile", str(self.scratch / "docker.pid"), "-H", self.host,
            "--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
            "--userland-proxy=false", "--cgroup-parent", self.cgroup_parent, "--exec-opt", "native.cgroupdriver=cgroupfs",
        ]
        # the namespace's own /run and /etc/docker, then dockerd (the launcher below; no shell)
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "--",
                sys.executable, str(Path(__file__).resolve()), "--in-namespace", str(etc), "--", *dockerd]

    def start(self) -> PrivateDockerd:
        self._stop_stale()
        for folder in ("data", "etc-docker"):
            (self.scratch / folder).mkdir(parents=True, exist_ok=True)
        (self.scratch / "daemon.json").write_text("{}\n")
        log = open(self.scratch / "dockerd.log", "wb")  # noqa: SIM115 - the daemon writes it while it runs
        self.process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        end = time.monotonic() + START_TIMEOUT
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited: {self.log_tail()}")
            if self.socket.exists() and self.docker("version", check=False).returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dockerd did not answer within {START_TIMEOUT} s: {self.log_tail()}")

    def _stop_stale(self) -> None:
        """A daemon of this folder whose keeper was killed (the lab restarts the keeper) holds its pid file."""
        pid_file = self.scratch / "docker.pid"
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if str(self.scratch).encode() not in cmdline:
            return
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + STOP_TIMEOUT
        while Path(f"/proc/{pid}").exists() and time.monotonic() < end:
            time.sleep(0.1)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)

    def log_tail(self) -> str:
        path = self.scratch / "dockerd.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def docker(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([DOCKER, *args], capture_output=True, text=True, env=self.env(), check=check,
                              timeout=timeout)

    def import_image(self, tarball: Path, tag: str) -> None:
        """A rootfs tarball as image ``tag``, unless the daemon has it from the same tarball already.

        Its shell prompt is the reference's containers' (``root@lava / # ``, the hostname being ``lava``).
        """
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()[:16]
        inspect = self.docker("image", "inspect", "--format", '{{index .Config.Labels "org.lava.rootfs"}}', tag,
                              check=False)
        if inspect.returncode == 0 and inspect.stdout.strip() == digest:
            return
        self.docker("import", "--change", f"LABEL org.lava.rootfs={digest}", "--change", r'ENV PS1="\\u@\\h \\w # "',
                    str(tarball), tag)
        self.docker("image", "prune", "--force")  # the image this tag named before

    def containers(self) -> list[str]:
        return self.docker("ps", "--all", "--quiet").stdout.split()

    def images(self) -> list[str]:
        return sorted(self.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split())

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                leftover = self.containers()
                if leftover:
                    self.docker("rm", "--force", *leftover, check=False)
            except (subprocess.SubprocessError, OSError):
                pass
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        try:
            os.killpg(process.pid, signal.SIGKILL)  # containerd and its shims share the group
        except ProcessLookupError:
            pass
        self._remove_cgroups()

    def _remove_cgroups(self) -> None:
        for parent in CGROUP_ROOT.glob(f"*/{self.cgroup_parent}"):
            for child in sorted(parent.glob("*/"), reverse=True):
                try:
                    child.rmdir()
                except OSError:
                    pass
            try:
                parent.rmdir()
            except OSError:
                pass

    def remove_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> PrivateDockerd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _enter_namespace(etc_docker: str, dockerd: list[str]) -> None:
    """Inside the private mount namespace: hide the host's /run and /etc/docker, then become dockerd."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "lava-dockerd-run", "/run"], check=True)
    if Path("/etc/docker").is_dir():
        subprocess.run(["mount", "--bind", etc_docker, "/etc/docker"], check=True)
    os.execv(dockerd[0], dockerd)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--in-namespace"]:
        etc_docker, _separator, *dockerd = argv[1:]
        _enter_namespace(etc_docker, dockerd)
        return 1
    parser = argparse.ArgumentParser(description="run a private docker daemon until SIGTERM")
    parser.add_argument("scratch", type=Path)
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="TARBALL=TAG")
    args = parser.parse_args(argv)
    daemon = PrivateDockerd(args.scratch).start()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    try:
        for spec in args.imports:
            tarball, _, tag = spec.partition("=")
            daemon.import_image(Path(tarball), tag)
        print(f"dockerd ready on {daemon.host}", flush=True)
        (args.scratch / "ready").write_text(f"{os.getpid()}\n")
        while not stopping and daemon.process is not None and daemon.process.poll() is None:
            time.sleep(0.5)
    finally:
        (args.scratch / "ready").unlink(missing_ok=True)
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
