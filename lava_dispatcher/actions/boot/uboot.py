"""``boot: method: u-boot``: power-cycle, interrupt autoboot, send the commands, log in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import (
    BootloaderCommands,
    BootloaderInterrupt,
    BootloaderSettings,
    command_list,
)
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import AutoLoginAction, ExpectShellSession, ExportDeviceEnv
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import BootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class BootloaderOverlay(Action):
    name = "bootloader-overlay"
    description = "substitute job data into bootloader command list"
    summary = "replace placeholders with job data"
    section = "boot"
    method = "u-boot"  # whose command lists the device configuration holds

    def __init__(self, device: DeviceConfig, commands_action: BootloaderCommands) -> None:
        super().__init__()
        self.device = device
        self.commands_action = commands_action

    def validate(self) -> None:
        commands, error = command_list(self.device, self.method, self.parameters)
        if error:
            self.errors.append(error)
        self.commands_action.commands = commands

    def run(self, ctx: JobContext) -> None:
        if isinstance(self.parameters.get("commands"), list):
            ctx.logger.warning("Using inline bootloader commands from the job definition")
        commands, _ = command_list(ctx.device, self.method, self.parameters)
        self.commands_action.commands = commands


class UBootAction(BootRetry):
    name = "uboot-action"
    description = "interactive uboot action"
    summary = "pass uboot commands"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        settings = BootloaderSettings(self.device, "u-boot")
        commands = BootloaderCommands(settings)
        pipeline.add_action(BootloaderOverlay(self.device, commands), parameters)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(BootloaderInterrupt(settings), parameters)
        pipeline.add_action(commands, parameters)
        pipeline.add_action(AutoLoginAction(wait_kernel=True, error_messages=settings.error_messages), parameters)
        pipeline.add_action(ExpectShellSession(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)

    def cleanup(self, ctx: JobContext) -> None:
        super().cleanup(ctx)
        # a new attempt starts from a fresh console
        if ctx.connection is not None:
            ctx.connection.stop_process()
            ctx.connection = None


class UBootBoot(BootMethod):
    name = "u-boot"
    schema = BOOT_METHODS["u-boot"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return UBootAction(device, retry_count(device, block))
