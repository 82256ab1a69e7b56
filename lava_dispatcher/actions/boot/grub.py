"""``boot: method: grub`` and ``grub-efi``: power on, reach ``grub>``, type the commands, log in.

GRUB reached over the network with no ``grub.cfg`` stops at ``grub>`` by
itself; one with a menu shows its countdown, which the interrupt character
(``c``: GRUB's command line) stops. Both are waited for at once. GRUB on UEFI
redraws every echoed character with cursor escapes, so a command's echo can
never be matched: the sender waits for the next prompt, which GRUB prints only
once the command has run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, LAVATimeoutError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import BootloaderCommands, BootloaderOverlay, BootloaderSettings
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import (
    add_shell_login,
    prompt_list,
)
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class GrubPrompt(Action):
    name = "grub-prompt"
    description = "wait for GRUB's command line, stopping its menu countdown if one shows"
    summary = "reach the grub> prompt"
    section = "boot"

    def __init__(self, settings: BootloaderSettings) -> None:
        super().__init__()
        self.settings = settings

    def run(self, ctx: JobContext) -> None:
        # a prompt that never comes means a board (or a device configuration) that does not work: the lab's
        # fault, as for the other bootloaders (BootloaderInterrupt)
        try:
            self._reach_prompt(ctx)
        except LAVATimeoutError as exc:
            raise InfrastructureError(str(exc)) from exc

    def _reach_prompt(self, ctx: JobContext) -> None:
        console = ctx.connection
        prompt = re.escape(self.settings.prompt)
        wanted = [prompt, self.settings.interrupt_prompt] if self.settings.needs_interrupt else [prompt]
        found = console.expect(wanted, self.connection_wait(ctx), what=f"the GRUB prompt '{self.settings.prompt}'")
        if found == 1:
            console.send(self.settings.interrupt_char)
            ctx.logger.input(repr(self.settings.interrupt_char))
            console.expect([prompt], self.connection_wait(ctx), what=f"the GRUB prompt '{self.settings.prompt}'")


class GrubAction(ConsoleBootRetry):
    name = "grub-main-action"
    description = "power on, reach the GRUB prompt, send the commands and log in"
    summary = "GRUB boot"

    def __init__(self, device: DeviceConfig, retries: int, method: str) -> None:
        super().__init__(device, retries)
        self.method = method

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        settings = BootloaderSettings(self.device, self.method)
        if settings.prompt == "=>":  # BootloaderSettings' U-Boot default: GRUB's own is better
            settings.prompt = "grub>"
        commands = BootloaderCommands(settings)
        pipeline.add_action(BootloaderOverlay(self.device, self.method, commands), parameters)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(GrubPrompt(settings), parameters)
        pipeline.add_action(commands, parameters)
        if prompt_list(parameters):  # no prompts: a job that only watches the console (test: monitors)
            add_shell_login(pipeline, parameters, error_messages=settings.error_messages)



class GrubBoot(BootMethod):
    name = "grub"
    schema = BOOT_METHODS["grub"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return GrubAction(device, retry_count(device, block), cls.name)


class GrubEfiBoot(GrubBoot):
    name = "grub-efi"
    schema = BOOT_METHODS["grub-efi"]
