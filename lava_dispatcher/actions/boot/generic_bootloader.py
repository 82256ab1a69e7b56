"""``boot: method: bootloader``: stop any bootloader the device lists at its prompt and type the commands.

``bootloader: <name>`` picks the device's ``actions.boot.methods.<name>`` (its prompts,
interrupt rules and named command lists); ``commands:`` is one of those lists or an
inline one. After the last command it waits for the prompt again or for a kernel to
start, and nobody logs in: the job usually goes on with a ``test: interactive:`` block
at the bootloader's prompt, or with a later block when the commands boot something.
"""

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
from lava_dispatcher.actions.boot.ipxe import IPXE_DEFAULTS, IPXE_SCRIPT
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    pass

SCRIPTS = {"ipxe": IPXE_SCRIPT}
DEFAULTS = {"ipxe": IPXE_DEFAULTS}


class BootloaderRetry(ConsoleBootRetry):
    name = "bootloader-retry"
    description = "interrupt a bootloader and type commands at its prompt"
    summary = "bootloader commands"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        bootloader = str(parameters["bootloader"])
        settings = BootloaderSettings(self.device, bootloader, parameters)
        commands = BootloaderCommands(settings, expect_final=False)
        overlay = BootloaderOverlay(
            self.device, bootloader, commands, script=SCRIPTS.get(bootloader), defaults=DEFAULTS.get(bootloader)
        )
        pipeline.add_action(overlay, parameters)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(BootloaderInterrupt(settings), parameters)
        pipeline.add_action(commands, parameters)



class GenericBootloaderBoot(BootMethod):
    name = "bootloader"
    schema = BOOT_METHODS["bootloader"]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        if block.parameters.get("method") != "bootloader":
            return False, "'method' is not 'bootloader'"
        bootloader = block.parameters.get("bootloader")
        if bootloader not in device.boot_methods():
            return False, f"the device does not support bootloader '{bootloader}' (actions.boot.methods)"
        return True, "accepted"

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return BootloaderRetry(device, retry_count(device, block))
