"""``- command: {name: X}``: a builtin device command or a device ``user_commands`` entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

BUILTINS = {
    "pre_power_command": "pre_power",
    "pre_os_command": "pre_os",
    "hard_reset": "hard_reset",
    "power_on": "power_on",
    "power_off": "power_off",
}


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
        if name in BUILTINS:
            return list(getattr(self.device.power, BUILTINS[name])), None
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
            known = sorted(set(BUILTINS) | set(self.device.user_commands))
            self.errors.append(f"unknown command '{name}' for this device (known: {', '.join(known)})")

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher.power import run_commands

        commands, self._undo = self._commands()
        self._ran = True
        run_commands(ctx, commands, f"command {self.parameters['name']}")

    def cleanup(self, ctx: JobContext) -> None:
        from lava_dispatcher.power import run_command

        if self._ran and self._undo:
            run_command(ctx, self._undo, f"undo {self.parameters['name']}")
