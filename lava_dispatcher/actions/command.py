"""``- command: {name: X}``: a builtin device command or a device ``user_commands`` entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_common.device_commands import BUILTIN_COMMANDS
from lava_common.schemas.command import COMMAND
from lava_dispatcher.action import Action
from lava_dispatcher.actions.test.services_stop import STOP_COMMAND, StopTestServicesAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import Method
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.power import run_command, run_commands

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class CommandAction(Action):
    name = "user-command"
    description = "execute one of the commands listed by the admin"
    summary = "execute commands"
    section = "command"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device
        self._undo: str | None = None
        self._ran = False

    def _commands(self) -> tuple[list[str], str | None]:
        name = self.parameters.get("name")
        if name in BUILTIN_COMMANDS:
            return self.device.command_list(name), None
        user = self.device.user_commands.get(name) if isinstance(name, str) else None
        if user:
            undo = user.get("undo")
            return [user["do"]], undo if isinstance(undo, str) else None
        return [], None

    def validate(self) -> None:
        name = self.parameters.get("name")
        if not isinstance(name, str):
            self.errors.append("'name' is required")
            return
        commands, _ = self._commands()
        if not commands:
            known = sorted({*BUILTIN_COMMANDS, STOP_COMMAND, *self.device.user_commands})
            self.errors.append(f"unknown command '{name}' for this device (known: {', '.join(known)})")

    def run(self, ctx: JobContext) -> None:
        commands, self._undo = self._commands()
        self._ran = True
        run_commands(ctx, commands, f"command {self.parameters['name']}")

    def cleanup(self, ctx: JobContext) -> None:
        if self._ran and self._undo:
            run_command(ctx, self._undo, f"undo {self.parameters['name']}")


class DeviceCommand(Method):
    """The only command method: the action itself tells a known name from an unknown one."""

    section = "command"
    name = "command"
    schema = COMMAND

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        return True, "accepted"

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        if block.parameters.get("name") == STOP_COMMAND:
            return StopTestServicesAction(plan, block.position)
        return CommandAction(device)
