"""Calling the docker client: which binary, which daemon, which options, and the errors users read.

Every call is an argument list. The job gives only the image name (checked by
the job schema: it cannot start with ``-``) and the command run inside the
container, which comes after the image where docker reads no options. What a
container may use on the host (devices, volumes, capabilities, a network,
privileges) comes only from the device dictionary, written by an admin: by
default a container gets ``--network none`` and nothing else.

The daemon is the one the dispatcher configuration names (``docker_host``,
handed to the client as ``DOCKER_HOST``), so a lab can keep its containers off
the host's default docker. ``docker_binary`` names the client (default
``/usr/bin/docker``: another ``docker`` may come first on PATH).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import ConfigurationError, InfrastructureError, JobError
from lava_dispatcher.device import DispatcherConfig

if TYPE_CHECKING:
    import subprocess

DEFAULT_DOCKER = "/usr/bin/docker"
CLI_TIMEOUT = 120
# what the daemon says when a registry does not know the image (as opposed to an unreachable registry)
_UNKNOWN_IMAGE = re.compile(r"not found|does not exist|manifest unknown|pull access denied|repository .* not found", re.I)
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_.-]")


def docker_binary(dispatcher: DispatcherConfig) -> str:
    return str(dispatcher.raw.get("docker_binary") or DEFAULT_DOCKER)


def docker_env(dispatcher: DispatcherConfig, remote: str = "") -> dict[str, str]:
    """The client's environment: the daemon named by the device (``remote``) or the dispatcher."""
    env = dict(os.environ)
    host = remote or str(dispatcher.raw.get("docker_host") or "")
    if host:
        env["DOCKER_HOST"] = host
    return env


def container_name(prefix: str, job_id: str, role: str) -> str:
    """A name that says which job owns the container, so that an admin can find a stray one."""
    return _NAME_CHARS.sub("-", f"lava-{prefix}{job_id}-{role}")


class DockerClient:
    """One daemon, as the dispatcher configuration (and the device, for ``remote``) names it."""

    def __init__(self, dispatcher: DispatcherConfig, remote: str = "", global_options: Iterable[str] = ()) -> None:
        self.binary = docker_binary(dispatcher)
        self.env = docker_env(dispatcher, remote)
        self.global_options = list(global_options)  # the admin's, before the subcommand

    def argv(self, *args: str) -> list[str]:
        return [self.binary, *self.global_options, *args]

    def call(self, args: Iterable[str], what: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        import subprocess  # deferred: only a run calls docker, not `lava-run --validate`

        argv = self.argv(*args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env)
        except FileNotFoundError as exc:
            raise InfrastructureError(f"{what}: the docker client '{self.binary}' is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise InfrastructureError(f"{what}: '{shlex.join(argv)}' took more than {int(timeout)} s") from exc
        return proc

    def check(self, args: Iterable[str], what: str, timeout: float = CLI_TIMEOUT) -> str:
        proc = self.call(args, what, timeout)
        if proc.returncode != 0:
            raise InfrastructureError(f"{what}: {last_line(proc.stderr) or f'exit status {proc.returncode}'}")
        return proc.stdout

    def has_image(self, image: str) -> bool:
        proc = self.call(["image", "inspect", "--format", "{{.Id}}", image], f"docker image '{image}'")
        if proc.returncode == 0:
            return True
        if "no such image" in proc.stderr.lower():
            return False
        raise InfrastructureError(f"docker image '{image}': the docker daemon does not answer: {last_line(proc.stderr)}")

    def ensure_image(self, image: str, local: bool, timeout: float) -> None:
        """The image is on the daemon afterwards; ``local: true`` says it must be there already."""
        if self.has_image(image):
            return
        if local:
            raise JobError(f"docker image '{image}' does not exist on the worker's docker daemon (local: true, not pulled)")
        proc = self.call(["pull", image], f"docker pull '{image}'", timeout)
        if proc.returncode == 0:
            return
        reason = last_line(proc.stderr)
        if _UNKNOWN_IMAGE.search(reason):
            raise JobError(f"docker image '{image}' does not exist: {reason}")
        raise InfrastructureError(f"docker image '{image}' cannot be pulled: {reason}")

    def remove(self, name: str) -> None:
        """Stop and delete a container; one that is already gone is fine."""
        proc = self.call(["rm", "--force", "--volumes", name], f"docker container '{name}'", timeout=60)
        if proc.returncode != 0 and "no such container" not in proc.stderr.lower():
            raise InfrastructureError(f"docker container '{name}' cannot be removed: {last_line(proc.stderr)}")

    def exit_status(self, name: str) -> str:
        """How a container ended, for an error message (never raises)."""
        try:
            proc = self.call(["container", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}",
                              name], f"docker container '{name}'", timeout=20)
        except InfrastructureError as exc:
            return str(exc)
        if proc.returncode != 0:
            return f"docker container '{name}' is gone"
        status, code, *error = proc.stdout.split(" ", 2)
        if status == "running":
            return f"docker container '{name}' is still running"
        detail = error[0].strip() if error else ""
        return f"docker container '{name}' {status} with status {code}" + (f": {detail}" if detail else "")


def last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def device_run_options(options: dict[str, Any]) -> list[str]:
    """``docker run`` options from the device's ``deploy.methods.docker.options`` (docker.jinja2)."""
    argv: list[str] = ["--network", str(options.get("network") or "none")]
    try:
        cpus = float(options.get("cpus") or 0)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"the device's deploy.methods.docker.options.cpus is not a number: {exc}") from exc
    if cpus > 0:
        argv += ["--cpus", str(cpus)]
    if options.get("memory"):
        argv += ["--memory", str(options["memory"])]
    for volume in options.get("volumes") or []:
        argv += ["--volume", str(volume)]
    for device in options.get("devices") or []:
        argv += ["--device", str(device)]
    for capability in options.get("capabilities") or []:
        argv += ["--cap-add", str(capability)]
    if options.get("privileged") is True:
        argv.append("--privileged")
    return argv


def command_argv(command: Any, where: str) -> list[str]:
    """The job's container command: split like a shell would, run by none on the host."""
    try:
        argv = shlex.split(str(command))
    except ValueError as exc:
        raise JobError(f"{where}: cannot be split into words: {exc}") from exc
    if not argv:
        raise JobError(f"{where}: empty command")
    return argv
