"""``boot: method: u-boot``: power-cycle, interrupt autoboot, send the commands, log in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import (
    BootloaderCommands,
    BootloaderInterrupt,
    BootloaderOverlay,
    BootloaderSettings,
)
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import add_shell_login
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.actions.deploy.uboot_ums import FlashUBootUms
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

UMS_COMMANDS = "ums"  # the command list that shows the board's disk to the worker (`deploy: to: u-boot-ums`)


class UmsCommands(BootloaderCommands):
    """``ums`` never returns to the prompt by itself: it is serving once it names the disk it shows."""

    def __init__(self, settings: BootloaderSettings) -> None:
        super().__init__(settings, expect_final=False)

    def _settle(self, ctx: JobContext, command: str) -> None:
        self._expect(ctx, r"UMS: LUN", "U-Boot's 'UMS: LUN ...' line", command)


class UBootAction(ConsoleBootRetry):
    name = "uboot-action"
    description = "interactive uboot action"
    summary = "pass uboot commands"
    bootloader = "u-boot"  # the device's boot method (and constants block) that gives prompts and lists

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        settings = BootloaderSettings(self.device, self.bootloader, parameters)
        ums = parameters.get("commands") == UMS_COMMANDS
        commands = UmsCommands(settings) if ums else BootloaderCommands(settings)
        pipeline.add_action(BootloaderOverlay(self.device, self.bootloader, commands), parameters)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(BootloaderInterrupt(settings), parameters)
        pipeline.add_action(commands, parameters)
        if ums:
            # `ums` boots nothing: the worker writes the board's disk, then the board boots what it holds
            pipeline.add_action(FlashUBootUms(self.device), parameters)
            pipeline.add_action(ResetDevice(self.device), parameters)
        add_shell_login(pipeline, parameters, error_messages=settings.error_messages)


class UBootBoot(BootMethod):
    name = "u-boot"
    schema = BOOT_METHODS["u-boot"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return UBootAction(device, retry_count(device, block))
