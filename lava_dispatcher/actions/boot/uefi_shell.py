"""``boot: method: uefi``: stop in the UEFI shell and type the commands that start the kernel.

The firmware reaches its shell either by itself (OVMF counts down before
``startup.nsh``; a key stops it) or through its boot menu: the device's
``uefi-menu`` step list named by the job's ``shell_menu`` (default ``shell``,
when the device has such a list; ``shell_menu: ''`` goes straight to the
shell). Then the device's named command list (``actions.boot.methods.uefi.<commands>``)
is typed at ``Shell>``; the last command starts the kernel (an EFI stub), and
the sender waits for the device's ``boot_message`` instead of a prompt.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import BootloaderCommands, BootloaderOverlay, BootloaderSettings
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import (
    add_shell_login,
    prompt_list,
)
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.actions.boot.uefi_menu import METHOD as MENU_METHOD
from lava_dispatcher.actions.boot.uefi_menu import MenuStyle, UefiMenuInterrupt, UefiMenuSelector
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

METHOD = "uefi"


def shell_settings(device: DeviceConfig) -> BootloaderSettings:
    """The shell's prompts, from ``uefi.parameters`` (whose keys are the shell's own)."""
    settings = BootloaderSettings(device, METHOD)
    params = (device.boot_methods().get(METHOD) or {}).get("parameters") or {}
    settings.prompt = str(params.get("bootloader_prompt") or "Shell>")
    settings.interrupt_prompt = str(params.get("shell_interrupt_prompt") or "Press ESC in")
    settings.interrupt_char = str(params.get("shell_interrupt_string", "\x1b"))
    settings.final_message = str(params.get("boot_message") or device.kernel_start_message)
    return settings


def menu_to_shell(device: DeviceConfig, parameters: dict[str, Any]) -> str | None:
    """The device's uefi-menu step list that leads to the shell, or None to stop in the shell directly."""
    name = parameters.get("shell_menu", "shell")
    menu = device.boot_methods().get(MENU_METHOD) or {}
    return str(name) if name and isinstance(menu.get(name), list) else None


class UefiShellOverlay(BootloaderOverlay):
    """The command list, each command ended with a carriage return: the UEFI console's Enter key
    (a line feed alone is not one; the one the sender adds after it is ignored)."""

    def __init__(self, device: DeviceConfig, commands_action: BootloaderCommands) -> None:
        super().__init__(device, METHOD, commands_action)

    def validate(self) -> None:
        super().validate()
        self.commands_action.commands = [f"{command}\r" for command in self.commands_action.commands]

    def run(self, ctx: JobContext) -> None:
        super().run(ctx)
        self.commands_action.commands = [f"{command}\r" for command in self.commands_action.commands]


class UefiShellPrompt(Action):
    name = "uefi-shell-interrupt"
    description = "stop the firmware's countdown in the UEFI shell"
    summary = "reach the UEFI shell"
    section = "boot"

    def __init__(self, settings: BootloaderSettings, through_menu: bool) -> None:
        super().__init__()
        self.settings = settings
        self.through_menu = through_menu

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        if not self.through_menu:
            console.expect([self.settings.interrupt_prompt], self.connection_wait(ctx),
                           what=f"the UEFI shell's countdown '{self.settings.interrupt_prompt}'")
            console.send(self.settings.interrupt_char)
            ctx.logger.input(repr(self.settings.interrupt_char))
        console.expect([re.escape(self.settings.prompt)], self.connection_wait(ctx),
                       what=f"the UEFI shell prompt '{self.settings.prompt}'")


class UefiShellAction(ConsoleBootRetry):
    name = "uefi-shell-action"
    description = "power on, stop in the UEFI shell, start the kernel from it, log in"
    summary = "UEFI shell boot"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        settings = shell_settings(self.device)
        commands = BootloaderCommands(settings)
        menu = menu_to_shell(self.device, parameters)
        pipeline.add_action(UefiShellOverlay(self.device, commands), parameters)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        if menu is not None:
            style = MenuStyle.of(self.device)
            pipeline.add_action(UefiMenuInterrupt(style), parameters)
            pipeline.add_action(UefiMenuSelector(self.device, style, menu), parameters)
        pipeline.add_action(UefiShellPrompt(settings, through_menu=menu is not None), parameters)
        pipeline.add_action(commands, parameters)
        if prompt_list(parameters):
            # the sender's last wait was the kernel's first words (boot_message)
            add_shell_login(pipeline, parameters, wait_kernel=False)



class UefiShellBoot(BootMethod):
    name = METHOD
    schema = BOOT_METHODS[METHOD]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return UefiShellAction(device, retry_count(device, block))
