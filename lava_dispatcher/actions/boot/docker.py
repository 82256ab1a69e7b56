"""``boot: method: docker``: start the deployed image as the device, with the test overlay copied in.

``docker create`` (options from the device dictionary only), ``docker cp`` of
the overlay, then ``docker start --attach --interactive`` is the console.
Closing that console removes the container.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.login import (
    AutoLoginAction,
    ExpectShellSession,
    ExportDeviceEnv,
    prompt_list,
)
from lava_dispatcher.actions.deploy.docker import device_remote
from lava_dispatcher.compose_cli import with_service_networks
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.docker_cli import DockerClient, command_argv, container_name, device_run_options
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import BootRetry

if TYPE_CHECKING:
    from lava_dispatcher.container_console import ContainerConsole
    from lava_dispatcher.context import JobContext

HOSTNAME = "lava"  # the reference's containers answer to `root@lava`


def start_container(
    ctx: JobContext, client: DockerClient, name: str, create_args: list[str], role: str, networks: Sequence[str] = ()
) -> ContainerConsole:
    """Create the container, connect it to ``networks``, copy the overlay in, attach a console to it
    (the caller owns the console)."""
    from lava_dispatcher.container_console import ContainerConsole  # deferred: pexpect is a heavy import

    client.remove(name)  # a container of this name left by a killed run of the same job id
    client.check(["create", "--interactive", "--tty", "--name", name, "--hostname", HOSTNAME, *create_args],
                 f"{role}: docker create")
    try:
        for network in networks:
            client.check(["network", "connect", network, name], f"{role}: joining the test services' network")
        if ctx.overlay is not None:
            client.check(["cp", f"{ctx.overlay.root}/.", f"{name}:/"], f"{role}: copying the test overlay")
        console = ContainerConsole(
            client.argv("start", "--attach", "--interactive", name), ctx.logger, ctx.processes,
            f"container {name}", ctx.device.spawn_maxread, env=client.env,
            remove=lambda: client.remove(name), exit_status=lambda: client.exit_status(name),
        )
    except BaseException:
        client.remove(name)
        raise
    ctx.logger.info(f"{role}: container '{name}' started")
    return console


class CallDockerAction(Action):
    name = "docker-run"
    description = "start the container that is the device"
    summary = "docker run"
    section = "boot"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        options = (self.device.deploy_methods().get("docker") or {}).get("options") or {}
        if not isinstance(options, dict):
            self.errors.append("the device's deploy.methods.docker.options must be a mapping")
        try:
            command_argv(self.parameters.get("command"), "command")
        except JobError as exc:
            self.errors.append(str(exc))

    def run(self, ctx: JobContext) -> None:
        image = ctx.current.container_image
        if not image:
            raise JobError("boot method docker needs a 'deploy: to: docker' in the same namespace first")
        options = (ctx.device.deploy_methods().get("docker") or {}).get("options") or {}
        command = command_argv(self.parameters["command"], "command")
        client = DockerClient(ctx.dispatcher, device_remote(ctx.device))
        name = container_name(ctx.dispatcher.prefix, ctx.job_id, self.namespace)
        if ctx.connection is not None:
            ctx.connection.stop_process()
        run_options, networks = device_run_options(options), []
        if ctx.test_services is not None:  # the job's test services run: the device reaches them by name
            run_options, networks = with_service_networks(run_options, ctx.test_services.networks())
        console = start_container(ctx, client, name, [*run_options, image, *command], "docker boot", networks)
        console.prompts = prompt_list(self.parameters) or [ctx.device.default_shell_prompt]
        ctx.connection = console

    def cleanup(self, ctx: JobContext) -> None:
        if ctx.connection is not None:
            ctx.connection.stop_process()


class DockerBootRetry(BootRetry):
    name = "boot-docker-retry"
    description = "start a docker container as the device"
    summary = "boot docker"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(CallDockerAction(self.device), parameters)
        pipeline.add_action(AutoLoginAction(wait_kernel=False), parameters)
        pipeline.add_action(ExpectShellSession(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)


class DockerBoot(BootMethod):
    name = "docker"
    schema = BOOT_METHODS["docker"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DockerBootRetry(device, retry_count(device, block))
