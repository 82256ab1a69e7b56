"""``boot: method: recovery`` with ``commands: recovery`` or ``exit``: the board into or out of its
USB recovery mode, by the device's ``recovery_mode`` / ``recovery_exit`` commands (set by an admin in
the dictionary as ``recovery_mode_command`` / ``recovery_exit_command``, like power commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.power import run_commands

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

COMMANDS = {"recovery": "recovery_mode", "exit": "recovery_exit"}


class RecoveryModeAction(Action):
    name = "recovery-mode"
    description = "switch the board into or out of its USB recovery mode"
    summary = "recovery mode"
    section = "boot"

    def __init__(self, device: DeviceConfig, command: str) -> None:
        super().__init__()
        self.device = device
        self.command = command  # recovery_mode or recovery_exit

    def validate(self) -> None:
        super().validate()
        if not self.device.command_list(self.command):
            self.errors.append(f"the device has no {self.command} command ({self.command}_command in its dictionary)")

    def run(self, ctx: JobContext) -> None:
        run_commands(ctx, self.device.command_list(self.command), self.command.replace("_", " "))


class RecoveryBoot(BootMethod):
    name = "recovery"
    schema = BOOT_METHODS["recovery"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return RecoveryModeAction(device, COMMANDS[str(block.parameters.get("commands"))])
