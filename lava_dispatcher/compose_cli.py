"""Calling docker-compose for a job's test services: one compose project per job, on the job's daemon.

The client is Debian's ``docker-compose`` (1.29; ``docker_compose_binary`` in
the dispatcher configuration names another), not the ``docker compose`` plugin,
which a worker may lack. It talks to the daemon the docker device uses
(``docker_remote`` of the device, else the dispatcher's ``docker_host``).

Every call is an argument list and runs with a minimal environment (``PATH``,
``HOME``, ``DOCKER_HOST``): the job's secrets, which lava-run keeps in its own
environment, never reach the compose file's variables. The project name is
``lava-<prefix><job id>``, so that two jobs never share containers, networks or
volumes, and an admin can tell which job a stray container belonged to. Its
containers, networks and volumes carry compose's project label; the stop
removes by that label whatever ``docker-compose down`` left.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.yaml_loader import YAMLLoadError, dump_yaml, load_yaml
from lava_dispatcher.device import DispatcherConfig
from lava_dispatcher.docker_cli import DockerClient, last_line

if TYPE_CHECKING:
    import subprocess

DEFAULT_COMPOSE = "/usr/bin/docker-compose"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
STOP_GRACE = 10  # seconds a service has to stop before it is killed
CONFIG_TIMEOUT = 60
_PROJECT_CHARS = re.compile(r"[^a-z0-9_-]")


def project_name(prefix: str, job_id: str) -> str:
    """The job's compose project: compose keeps only [a-z0-9_-], so a MultiNode '12.1' becomes '12-1'."""
    return _PROJECT_CHARS.sub("-", f"lava-{prefix}{job_id}".lower())


@dataclass
class ComposeProject:
    """The job's test services: which daemon, which project, which resolved files were started."""

    name: str
    docker: DockerClient
    binary: str = DEFAULT_COMPOSE
    files: list[Path] = field(default_factory=list)  # resolved compose files, in the order they were started
    started: dict[str, str] = field(default_factory=dict)  # compose service -> the job's entry that started it

    @classmethod
    def for_job(cls, dispatcher: DispatcherConfig, job_id: str, docker: DockerClient) -> ComposeProject:
        binary = str(dispatcher.raw.get("docker_compose_binary") or DEFAULT_COMPOSE)
        return cls(project_name(dispatcher.prefix, job_id), docker, binary)

    @property
    def env(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH") or "/usr/bin:/bin", "HOME": os.environ.get("HOME") or "/",
               "LANG": "C.UTF-8"}
        if self.docker.env.get("DOCKER_HOST"):
            env["DOCKER_HOST"] = self.docker.env["DOCKER_HOST"]
        return env

    def run(self, args: Iterable[str], what: str, timeout: float) -> subprocess.CompletedProcess:
        import subprocess  # deferred: only a run calls docker-compose, not `lava-run --validate`

        argv = [self.binary, "--no-ansi", *args]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env,
                                  stdin=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise InfrastructureError(f"{what}: '{self.binary}' is not installed on the worker "
                                      "(apt-get install docker-compose)") from exc
        except subprocess.TimeoutExpired as exc:
            raise InfrastructureError(f"{what}: '{shlex.join(argv)}' took more than {int(timeout)} s") from exc

    def resolve(self, compose_file: Path, what: str) -> dict[str, Any]:
        """``docker-compose config``: the file with variables, ``.env``, ``extends`` and paths resolved.

        Its project folder is the file's own (its .env); no daemon is asked: nothing starts."""
        proc = self.run(["--project-name", self.name, "--file", str(compose_file), "config"], what, CONFIG_TIMEOUT)
        if proc.returncode != 0:
            raise JobError(f"{what}: docker-compose cannot read it: {last_line(proc.stderr) or proc.returncode}")
        try:
            config = load_yaml(proc.stdout)
        except YAMLLoadError as exc:
            raise JobError(f"{what}: docker-compose config gave no YAML: {exc}") from exc
        if not isinstance(config, dict):
            raise JobError(f"{what}: docker-compose config gave no mapping")
        return config

    def up(self, resolved: dict[str, Any], target: Path, service: str, what: str, timeout: float) -> None:
        """Write the checked configuration to ``target`` and start it (or only ``service``) detached."""
        target.write_text(dump_yaml(resolved))
        if target not in self.files:
            self.files.append(target)
        args = ["--project-name", self.name, "--project-directory", str(target.parent), "--file", str(target),
                "up", "--detach", "--no-color", "--"]
        proc = self.run([*args, *([service] if service else [])], what, timeout)
        if proc.returncode != 0:
            raise InfrastructureError(f"{what}: docker-compose up failed: {last_line(proc.stderr) or proc.returncode}")

    def containers(self) -> list[dict[str, Any]]:
        """The project's containers: service, name, state and addresses per network."""
        ids = self.docker.check(["ps", "--all", "--quiet", "--filter", f"label={PROJECT_LABEL}={self.name}"],
                                "test services").split()
        if not ids:
            return []
        found = []
        for container in json.loads(self.docker.check(["container", "inspect", *ids], "test services")):
            state, networks = container.get("State") or {}, (container.get("NetworkSettings") or {}).get("Networks")
            found.append({
                "service": ((container.get("Config") or {}).get("Labels") or {}).get(SERVICE_LABEL, ""),
                "container": str(container.get("Name") or "").lstrip("/"),
                "status": state.get("Status", ""), "exit_code": state.get("ExitCode"),
                "addresses": {net: (info or {}).get("IPAddress", "") for net, info in (networks or {}).items()},
            })
        return found

    def networks(self) -> list[str]:
        """The project's networks, which the job's own containers may join."""
        return sorted(self.docker.check(["network", "ls", "--format", "{{.Name}}", "--filter",
                                         f"label={PROJECT_LABEL}={self.name}"], "test services").split())

    def down(self, timeout: float) -> list[str]:
        """Stop and remove everything of the project; what could not be removed, for the caller to report."""
        self._leave_networks()
        if self.files:
            args = ["--project-name", self.name, "--project-directory", str(self.files[0].parent)]
            for compose_file in self.files:
                if compose_file.exists():
                    args += ["--file", str(compose_file)]
            if "--file" in args:
                self.run([*args, "down", "--volumes", "--remove-orphans", "--rmi", "local", "--timeout",
                          str(STOP_GRACE)], "stopping the test services", timeout)
        self.files.clear()
        self.started.clear()
        return self._sweep()

    def _leave_networks(self) -> None:
        """The job's other containers (the docker device) leave the project's networks, which can then go."""
        try:
            for network in self.networks():
                members = self.docker.check(["network", "inspect", "--format",
                                             "{{range .Containers}}{{.Name}} {{end}}", network], "test services")
                for member in members.split():
                    self.docker.call(["network", "disconnect", "--force", network, member], "test services")
        except InfrastructureError:
            pass  # the sweep below reports what stays

    def _sweep(self) -> list[str]:
        """Remove by label what down did not (no files left, a killed compose): nothing of the job stays."""
        label = f"label={PROJECT_LABEL}={self.name}"
        left: list[str] = []
        for listing, remove in ((["ps", "--all", "--quiet"], ["rm", "--force", "--volumes"]),
                                (["network", "ls", "--quiet"], ["network", "rm"]),
                                (["volume", "ls", "--quiet"], ["volume", "rm", "--force"])):
            try:
                found = self.docker.check([*listing, "--filter", label], "test services").split()
                if found:
                    self.docker.check([*remove, *found], "removing the test services")
            except InfrastructureError as exc:
                left.append(str(exc))
        return left


def with_service_networks(options: list[str], networks: list[str]) -> tuple[list[str], list[str]]:
    """A job container's ``docker create`` options, and the networks to connect it to after creating it.

    The test services' networks are the job's own. A container the admin left
    without a network (``--network none``) is created on the first of them; one
    on a bridge of the admin's is connected to them as well; one that shares
    the host's (or another container's) network namespace cannot join a network
    and reaches the services through the ports they publish on the worker.
    """
    if not networks:
        return options, []
    mode, at = "default", None
    for index, option in enumerate(options):
        if option in ("--network", "--net") and index + 1 < len(options):
            mode, at = options[index + 1], (index, 2)
        elif option.startswith(("--network=", "--net=")):
            mode, at = option.split("=", 1)[1], (index, 1)
    if mode == "none" and at is not None:
        index, width = at
        return [*options[:index], "--network", networks[0], *options[index + width:]], networks[1:]
    if mode == "host" or mode.startswith("container:"):
        return options, []
    return options, networks
