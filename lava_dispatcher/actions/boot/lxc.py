"""``boot: method: lxc``: start the job's LXC container and attach a shell to it as the console.

Closing the console (power-off at finalize, or cleanup after a failure) stops
and destroys the container.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.login import (
    AutoLoginAction,
    ExpectShellSession,
    ExportDeviceEnv,
    prompt_list,
)
from lava_dispatcher.actions.deploy.lxc import job_container
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.lxc_cli import PROTOCOL, protocol_errors
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import BootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class LxcStartAction(Action):
    name = "boot-lxc"
    description = "start the lxc container and attach to it"
    summary = "boot lxc"
    section = "boot"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def validate(self) -> None:
        self.errors.extend(protocol_errors(self.plan.protocols.get(PROTOCOL)))

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher.container_console import ContainerConsole  # deferred: pexpect is a heavy import

        container = job_container(ctx, self.plan)
        if ctx.connection is not None:
            ctx.connection.stop_process()
        container.start()
        console = ContainerConsole(
            container.attach_argv(), ctx.logger, ctx.processes, f"lxc {container.name}", ctx.device.spawn_maxread,
            env=None, remove=container.destroy, exit_status=container.state,
        )
        console.prompts = prompt_list(self.parameters) or [ctx.device.default_shell_prompt]
        ctx.connection = console
        ctx.logger.info(f"lxc container '{container.name}' started")

    def cleanup(self, ctx: JobContext) -> None:
        if ctx.connection is not None:
            ctx.connection.stop_process()


class LxcBootRetry(BootRetry):
    name = "boot-lxc-retry"
    description = "start the lxc container"
    summary = "boot lxc"

    def __init__(self, device: DeviceConfig, retries: int, plan: JobPlan) -> None:
        super().__init__(device, retries)
        self.plan = plan

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(LxcStartAction(self.plan), parameters)
        pipeline.add_action(AutoLoginAction(wait_kernel=False), parameters)
        pipeline.add_action(ExpectShellSession(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)


class LxcBoot(BootMethod):
    name = "lxc"
    schema = BOOT_METHODS["lxc"]
    any_device = True

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return LxcBootRetry(device, retry_count(device, block), plan)
