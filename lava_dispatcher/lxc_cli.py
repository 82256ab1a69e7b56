"""An LXC container of one job: its settings from the ``lava-lxc`` protocol, and the lxc-* calls.

The container lives in the job's scratch space (``lxc-create -P``), never in
the host's ``/var/lib/lxc``; it has no network (``lxc.net.0.type = empty``: the
host's bridges stay as they are) and runs unconfined by AppArmor (the lab's
kernels have no LXC profile). Every call is an argument list; the protocol's
values are checked words before they reach one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError

if TYPE_CHECKING:
    import subprocess

PROTOCOL = "lava-lxc"
TEMPLATES = Path("/usr/share/lxc/templates")
CGROUP_ROOT = Path("/sys/fs/cgroup")
LOCK_ROOT = Path("/run/lxc/lock")
CONFIG = "lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n"
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_URL = re.compile(r"https?://[A-Za-z0-9_.:/~%+-]+\Z")
# template options the protocol may set, per template family (the others take none)
_TEMPLATE_OPTIONS = {
    "download": (("distribution", "--dist"), ("release", "--release"), ("arch", "--arch")),
    "debian": (("release", "--release"), ("arch", "--arch"), ("mirror", "--mirror"),
               ("security_mirror", "--security-mirror")),
    "ubuntu": (("release", "--release"), ("arch", "--arch"), ("mirror", "--mirror"),
               ("security_mirror", "--security-mirror")),
}


@dataclass(frozen=True)
class LxcSettings:
    name: str
    template: str
    template_args: tuple[str, ...]


def protocol_errors(protocol: Any) -> list[str]:
    """What is wrong with the job's ``protocols.lava-lxc`` block, each with its path."""
    where = f"protocols.{PROTOCOL}"
    if not isinstance(protocol, dict):
        return [f"{where}: the job needs this protocol (a mapping with name and template) for lxc"]
    errors = []
    for key in ("name", "template"):
        if not _WORD.match(str(protocol.get(key) or "")):
            errors.append(f"{where}.{key}: must be one word of letters, digits, '_', '.', '-'")
    for key in ("distribution", "release", "arch"):
        if key in protocol and not _WORD.match(str(protocol[key])):
            errors.append(f"{where}.{key}: must be one word of letters, digits, '_', '.', '-'")
    for key in ("mirror", "security_mirror"):
        if key in protocol and not _URL.match(str(protocol[key])):
            errors.append(f"{where}.{key}: must be an http(s) URL")
    return errors


def settings(protocol: dict[str, Any], job_id: str) -> LxcSettings:
    errors = protocol_errors(protocol)
    if errors:
        raise JobError("; ".join(errors))
    template = str(protocol["template"])
    args: list[str] = []
    for key, option in _TEMPLATE_OPTIONS.get(template, ()):
        if protocol.get(key):
            args += [option, str(protocol[key])]
    # the job id keeps two jobs with the same protocol name apart
    return LxcSettings(f"{protocol['name']}-{job_id}", template, tuple(args))


class LxcContainer:
    def __init__(self, path: Path, name: str) -> None:
        self.path = path  # lxc-create -P: the container's folder is path/name
        self.name = name

    def argv(self, tool: str, *args: str) -> list[str]:
        return [tool, "-P", str(self.path), "-n", self.name, *args]

    @property
    def rootfs(self) -> Path:
        return self.path / self.name / "rootfs"

    def _run(self, argv: list[str], what: str, timeout: float) -> subprocess.CompletedProcess:
        import subprocess  # deferred: only a run calls lxc, not `lava-run --validate`

        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except FileNotFoundError as exc:
            raise InfrastructureError(f"lxc container '{self.name}': {argv[0]} is not installed (apt-get install lxc)") from exc
        except subprocess.TimeoutExpired as exc:
            raise InfrastructureError(f"lxc container '{self.name}': {what} took more than {int(timeout)} s") from exc

    def _check(self, argv: list[str], what: str, timeout: float = 120) -> str:
        proc = self._run(argv, what, timeout)
        if proc.returncode != 0:
            lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
            raise InfrastructureError(f"lxc container '{self.name}': {what} failed: {lines[-1] if lines else proc.returncode}")
        return proc.stdout

    def create(self, template: str, template_args: tuple[str, ...], timeout: float) -> None:
        if not (TEMPLATES / f"lxc-{template}").exists():
            raise JobError(f"protocols.{PROTOCOL}.template: the worker has no LXC template '{template}'")
        self.path.mkdir(parents=True, exist_ok=True)
        config = self.path / f"{self.name}.conf"
        config.write_text(CONFIG)
        extra = ["--", *template_args] if template_args else []
        self._check(self.argv("lxc-create", "-t", template, "-f", str(config), *extra), "lxc-create", timeout)

    def copy_in(self, tree: Path) -> None:
        shutil.copytree(tree, self.rootfs, dirs_exist_ok=True, symlinks=True)

    def start(self) -> None:
        self._check(self.argv("lxc-start", "-d"), "lxc-start", 60)
        self._check(self.argv("lxc-wait", "-s", "RUNNING", "-t", "30"), "lxc-wait", 40)

    def attach_argv(self) -> list[str]:
        return self.argv("lxc-attach", "--clear-env", "--", "/bin/sh")

    def state(self) -> str:
        """How the container is, for an error message (never raises)."""
        try:
            proc = self._run(self.argv("lxc-info", "-s"), "lxc-info", 20)
        except InfrastructureError as exc:
            return str(exc)
        return f"lxc container '{self.name}': {(proc.stdout or proc.stderr).strip() or 'gone'}"

    def destroy(self) -> None:
        """Stop and delete the container, then what LXC leaves on the host for it."""
        if (self.path / self.name).exists():
            self._run(self.argv("lxc-stop", "-k"), "lxc-stop", 60)
            self._check(self.argv("lxc-destroy"), "lxc-destroy", 60)
        _prune_host_leftovers(self.path)


def _prune_host_leftovers(path: Path) -> None:
    # the lock folder LXC mirrors our path into, and the empty cgroups it keeps to stop containers
    locks = LOCK_ROOT / str(path.resolve()).lstrip("/")
    shutil.rmtree(locks, ignore_errors=True)
    folder = locks.parent
    while folder != LOCK_ROOT.parent.parent:  # up to /run/lxc, which an empty host does not have
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent
    for pivot in CGROUP_ROOT.glob("*/lxc.pivot"):
        try:
            pivot.rmdir()  # refused while another container uses it
        except OSError:
            pass
