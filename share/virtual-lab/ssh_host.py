"""A host reached over ssh for the lab and the tests: OpenSSH's sshd with a private configuration.

Everything lives in one scratch folder: the sshd configuration, its host key,
the client key pair the device dictionary names (``ssh_identity_file``), the
authorized_keys file and the login shell wrapper. The host's own ssh
configuration is never read or changed (``UsePAM no``, ``StrictModes no``:
the keys are in a scratch folder, not in a home directory).

The login shell is ``/bin/sh`` with the prompt ``PROMPT`` (the host's own
shell start-up files would make the prompt depend on the machine); a command
given by the client (scp, ``ssh host true``) runs as given.

    host = SshHost(Path("/tmp/x"), port=0)   # 0: a free port
    host.start()                             # returns once sshd accepts connections
    host.dictionary()                        # a device dictionary that reaches it
    host.stop()

``SshHost(..., netns=True)`` runs sshd in a network namespace of its own, reached over a veth pair
with a /30 of 10.213.0.0/16: a host with its own address, as a real lab's would be. ``stop()``
removes the namespace and the veth pair.

``python3 share/virtual-lab/ssh_host.py DIR PORT`` runs one in the foreground.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"
PROMPT = "ssh-host:~# "
# sshd refuses to start without its privilege separation folder (Debian creates it at boot)
PRIVSEP_DIR = Path("/run/sshd")
READY_TIMEOUT = 10.0

SHELL_WRAPPER = """#!/bin/sh
# the virtual ssh host's login: a command given by the client runs as given, else an interactive sh
if [ -n "$SSH_ORIGINAL_COMMAND" ]; then
    exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
fi
cd /
PS1='{prompt}' exec /bin/sh -i
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """The processes below ``root``, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent(int(entry.name))
            if parent is not None:
                parents[int(entry.name)] = parent
    found: list[int] = []
    frontier = [root]
    while frontier:
        current = frontier.pop()
        children = [pid for pid, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def sshd_available() -> str | None:
    """None when sshd can run here, else why not."""
    if not Path(SSHD).exists():
        return f"{SSHD} is not installed (apt-get install openssh-server)"
    if not shutil.which("ssh-keygen") or not shutil.which("ssh"):
        return "the ssh client tools are not installed (apt-get install openssh-client)"
    if os.geteuid() != 0:
        return "sshd must run as root to log users in"
    return None


class NetworkNamespace:
    """A network namespace joined to the host by a veth pair: the host side and the namespace side of a /30."""

    def __init__(self) -> None:
        tag = os.urandom(3).hex()
        self.name = f"lava-ssh-{tag}"
        self.host_link, self.inner_link = f"lsh{tag}", f"lsn{tag}"
        block = random.randrange(0, 65536 // 4) * 4  # a random /30 of 10.213.0.0/16
        self.host_address = f"10.213.{block // 256}.{block % 256 + 1}"
        self.address = f"10.213.{block // 256}.{block % 256 + 2}"

    def _ip(self, *args: str, inside: bool = False) -> None:
        prefix = ["ip", "netns", "exec", self.name] if inside else []
        subprocess.run([*prefix, "ip", *args], check=True, capture_output=True, stdin=subprocess.DEVNULL)

    def create(self) -> None:
        try:
            self._ip("netns", "add", self.name)
            self._ip("link", "add", self.host_link, "type", "veth", "peer", "name", self.inner_link, "netns", self.name)
            self._ip("addr", "add", f"{self.host_address}/30", "dev", self.host_link)
            self._ip("link", "set", self.host_link, "up")
            self._ip("addr", "add", f"{self.address}/30", "dev", self.inner_link, inside=True)
            self._ip("link", "set", self.inner_link, "up", inside=True)
            self._ip("link", "set", "lo", "up", inside=True)
        except subprocess.CalledProcessError as exc:
            self.remove()
            raise RuntimeError(f"cannot make network namespace {self.name}: {exc.stderr.decode().strip()}") from None

    def remove(self) -> None:
        """Delete the namespace (its end of the pair goes with it, and so the host's end)."""
        for args in (["netns", "del", self.name], ["link", "del", self.host_link]):
            subprocess.run(["ip", *args], capture_output=True, stdin=subprocess.DEVNULL, check=False)

    def exists(self) -> bool:
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
        link = subprocess.run(["ip", "link", "show", self.host_link], capture_output=True, check=False)
        return any(line.split()[0] == self.name for line in names.splitlines() if line.strip()) or link.returncode == 0


class SshHost:
    def __init__(self, directory: Path, port: int = 0, address: str = "127.0.0.1", prompt: str = PROMPT,
                 netns: bool = False) -> None:
        self.directory = Path(directory)
        self.namespace = NetworkNamespace() if netns else None
        self.port = port or (22 if netns else free_port())
        self.address = self.namespace.address if self.namespace else address
        self.prompt = prompt
        self.process: subprocess.Popen | None = None

    @property
    def identity_file(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def authorized_keys(self) -> Path:
        return self.directory / "authorized_keys"

    @property
    def log_file(self) -> Path:
        return self.directory / "sshd.log"

    def _keygen(self, path: Path) -> None:
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lava-virtual-ssh", "-f", str(path)],
                           check=True, stdin=subprocess.DEVNULL)

    def prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        self._keygen(self.directory / "host_ed25519")
        self._keygen(self.identity_file)
        if not self.authorized_keys.exists():
            self.authorize(self.identity_file.with_name(self.identity_file.name + ".pub"))
        wrapper = self.directory / "login-shell"
        wrapper.write_text(SHELL_WRAPPER.format(prompt=self.prompt))
        wrapper.chmod(0o755)
        (self.directory / "sshd_config").write_text("\n".join([
            f"ListenAddress {self.address}",
            f"Port {self.port}",
            f"HostKey {self.directory / 'host_ed25519'}",
            f"PidFile {self.directory / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            f"ForceCommand {wrapper}",
            "Subsystem sftp /usr/lib/openssh/sftp-server",
            "",
        ]))

    def authorize(self, public_key: Path) -> None:
        """Accept logins with this key (and only the keys authorized so far)."""
        with self.authorized_keys.open("a") as keys:
            keys.write(public_key.read_text())

    def refuse_all_keys(self) -> None:
        self.authorized_keys.write_text("")

    def start(self) -> None:
        """Returns once sshd answers; on failure nothing is left (RuntimeError says why)."""
        self.prepare()
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        try:
            self._start_sshd()
        except BaseException:
            self.stop()
            raise

    def _start_sshd(self) -> None:
        command = [SSHD, "-D", "-e", "-f", str(self.directory / "sshd_config")]
        if self.namespace is not None:
            self.namespace.create()
            command = ["ip", "netns", "exec", self.namespace.name, *command]  # ip execs sshd: same pid
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        end = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.process.returncode}: {self.log_file.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.address, self.port), timeout=0.5) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not listen on {self.address}:{self.port} within {READY_TIMEOUT:.0f} s")

    def sessions(self) -> list[int]:
        """Every process below sshd: its per-connection children leave its process group (setsid)."""
        if self.process is None:
            return []
        return descendants(self.process.pid)

    def stop(self) -> None:
        """Stop sshd and every session it started; remove its network namespace."""
        try:
            self._stop_sshd()
        finally:
            if self.namespace is not None:
                self.namespace.remove()

    def _stop_sshd(self) -> None:
        if self.process is None:
            return
        pids = [self.process.pid, *self.sessions()]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                continue
            end = time.monotonic() + 3
            while time.monotonic() < end and any(alive(pid) for pid in pids[1:]):
                time.sleep(0.02)
            if not any(alive(pid) for pid in pids[1:]):
                break
        self.process = None

    def dictionary(self, extra: str = "") -> str:
        """A device dictionary for a device of type ssh that logs in here (``extra``: more lines)."""
        return (
            "{% extends 'ssh.jinja2' %}\n"
            f"{{% set ssh_host = '{self.address}' %}}\n"
            f"{{% set ssh_port = {self.port} %}}\n"
            f"{{% set ssh_user = 'root' %}}\n"
            f"{{% set ssh_identity_file = '{self.identity_file}' %}}\n"
            + extra
        )


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: ssh_host.py DIR PORT", file=sys.stderr)
        return 2
    host = SshHost(Path(sys.argv[1]), int(sys.argv[2]))
    host.start()
    print(f"sshd on {host.address}:{host.port}, key {host.identity_file}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: host.stop())
    try:
        host.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
