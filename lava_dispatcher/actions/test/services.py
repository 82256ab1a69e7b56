"""``test: services: [...]``: docker-compose services on the worker, for the job's tests to use.

Each entry names a compose file: ``from: url`` (a tarball, ``compression``) or
``from: git`` (``branch``, ``revision``) fetched into the job's folder
(``<scratch>/test-services/<name>/``), ``path`` the file inside it,
``service`` one service of it (with what it depends on; default: all).
Before anything starts, every entry is fetched and checked: ``docker-compose
config`` resolves the file and ``compose_policy`` refuses what would reach the
worker; the resolved file, so checked, is what ``docker-compose up --detach``
starts, in the job's compose project on the docker device's daemon.

The services run until ``command: stop_test_services`` or the job's end
(finalize stops them whatever happened; ``services_stop``). They are reached
by name on the project's network (``lava-<job>_default``), which the job's
docker device containers join, or on the ports they publish on the worker.
Only a device whose dictionary says ``allow_test_services = true`` runs them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_common.safe_paths import inside
from lava_common.schemas.test import TEST_KINDS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.docker import device_remote
from lava_dispatcher.compose_cli import ComposeProject
from lava_dispatcher.compose_policy import compose_services, config_errors, source_errors
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.docker_cli import DockerClient
from lava_dispatcher.methods import TestMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import RetryAction
from lava_dispatcher.test_shell.definitions import git_fetch, url_fetch

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

SERVICES_DIR = "test-services"  # the fetched repositories and tarballs, one folder per entry
RESOLVED_DIR = "test-services-compose"  # the checked files that run (no job file beside them: no .env)


@dataclass
class PreparedService:
    """One entry, fetched and checked: what ``up`` starts."""

    name: str
    where: str
    config: dict[str, Any]
    service: str  # "" : every service of the file
    started: frozenset[str]  # the compose services it starts (service and its dependencies)


def job_project(ctx: JobContext) -> ComposeProject:
    """The job's compose project, created at its first services block."""
    if ctx.test_services is None:
        docker = DockerClient(ctx.dispatcher, device_remote(ctx.device))
        ctx.test_services = ComposeProject.for_job(ctx.dispatcher, ctx.job_id, docker)
    return ctx.test_services


def started_services(config: dict[str, Any], service: str) -> frozenset[str]:
    """``service`` and what it depends on (compose starts those too), or every service of the file."""
    services = config.get("services") or {}
    if not service:
        return frozenset(compose_services(config))
    found: set[str] = set()
    pending = [service]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        depends = (services.get(name) or {}).get("depends_on") or []
        pending.extend(str(dep) for dep in depends)  # a list, or a mapping keyed by service
    return frozenset(found)


class FetchTestServices(Action):
    name = "fetch-test-services"
    description = "fetch and check the compose files of the test services"
    summary = "fetch test services"
    section = "test"

    def __init__(self, prepared: list[PreparedService]) -> None:
        super().__init__()
        self.prepared = prepared

    def run(self, ctx: JobContext) -> None:
        self.prepared.clear()
        project = job_project(ctx)
        claimed = dict(project.started)  # compose service -> the entry that starts it
        for index, entry in enumerate(self.parameters["services"]):
            where = f"services[{index}] ('{entry['name']}')"
            prepared = self._prepare(ctx, project, entry, where)
            for name in prepared.started:
                if claimed.get(name, prepared.name) != prepared.name:
                    raise JobError(f"{where}: compose service '{name}' is also started by the entry "
                                   f"'{claimed[name]}': the job's services share one compose project, "
                                   "where a service name is one container")
                claimed[name] = prepared.name
            self.prepared.append(prepared)

    @staticmethod
    def _prepare(ctx: JobContext, project: ComposeProject, entry: dict[str, Any], where: str) -> PreparedService:
        folder = ctx.scratch() / SERVICES_DIR / str(entry["name"])
        if folder.exists():
            shutil.rmtree(folder)  # a retry fetches afresh
        folder.mkdir(parents=True)
        if entry["from"] == "git":
            commit = git_fetch(entry, folder, where, ctx.local_files)
            ctx.logger.info(f"{where}: {entry['repository']} at {commit}")
        else:
            url_fetch(entry, folder, where, ctx.local_files)
            ctx.logger.info(f"{where}: {entry['repository']} unpacked")
        compose_file = inside(folder, str(entry["path"]), f"{where}.path")
        if not compose_file.is_file():
            raise JobError(f"{where}: the compose file '{entry['path']}' is not in {entry['repository']}")
        errors = source_errors(compose_file, folder)
        config = project.resolve(compose_file, f"{where} {entry['path']}")
        errors += config_errors(config, folder)
        if errors:
            raise JobError(f"{where}: {entry['path']} asks for what a job may not have on its worker: "
                           + "; ".join(errors))
        service = str(entry.get("service") or "")
        names = sorted(compose_services(config))
        if service and service not in names:
            raise JobError(f"{where}.service: '{service}' is not a service of {entry['path']} "
                           f"(it has: {', '.join(names) or 'none'})")
        return PreparedService(str(entry["name"]), where, config, service, started_services(config, service))


class StartTestServices(Action):
    name = "start-test-services"
    description = "start the test services with docker-compose"
    summary = "start test services"
    section = "test"

    def __init__(self, prepared: list[PreparedService]) -> None:
        super().__init__()
        self.prepared = prepared

    def run(self, ctx: JobContext) -> None:
        project = job_project(ctx)
        folder = ctx.scratch() / RESOLVED_DIR
        folder.mkdir(exist_ok=True)
        for prepared in self.prepared:
            project.up(prepared.config, folder / f"{prepared.name}.yaml", prepared.service, prepared.where,
                       timeout=max(1.0, ctx.deadlines.remaining()))
            project.started.update(dict.fromkeys(prepared.started, prepared.name))
        for container in project.containers():
            addresses = ", ".join(f"{net} {ip}" for net, ip in container["addresses"].items() if ip) or "no address"
            message = f"test service '{container['service']}': container {container['container']} {container['status']}"
            if container["status"] == "exited":
                ctx.logger.warning(f"{message} with status {container['exit_code']}")
            else:
                ctx.logger.info(f"{message}, {addresses}")
            self.results[container["service"]] = {"container": container["container"], "status": container["status"],
                                                  "addresses": container["addresses"]}
        ctx.logger.info(f"test services of project '{project.name}' up; networks: {', '.join(project.networks())}")


class TestServicesRetry(RetryAction):
    __test__ = False
    name = "test-services"
    description = "start docker-compose services for the job's tests"
    summary = "test services"
    section = "test"

    def __init__(self, retries: int) -> None:
        super().__init__(max_retries=retries)

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        prepared: list[PreparedService] = []  # from the fetch to the start
        pipeline = self.new_pipeline()
        pipeline.add_action(FetchTestServices(prepared), parameters)
        pipeline.add_action(StartTestServices(prepared), parameters)


class ServicesTest(TestMethod):
    name = "service"
    key = "services"
    schema = TEST_KINDS["service"]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        accepted, reason = super().accepts(device, block)
        if accepted and device.parameters.get("allow_test_services") is not True:
            return False, "the device does not allow test services (its dictionary needs allow_test_services = true)"
        return accepted, reason

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return TestServicesRetry(retry_count(device, block))
