"""Open one of the device's consoles (the primary one unless named) with its connection command."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lava_dispatcher.action import Action
from lava_dispatcher.device import ConnectionSpec, DeviceConfig

if TYPE_CHECKING:
    from lava_dispatcher.console import Console
    from lava_dispatcher.context import JobContext


class ConnectDevice(Action):
    name = "connect-device"
    description = "use the configured command to connect serial to the device"
    summary = "run connection command"
    section = "boot"

    def __init__(self, device: DeviceConfig, connection: str | None = None) -> None:
        super().__init__()
        self.device = device
        self.connection_name = connection  # an entry of commands.connections; None: the primary console

    @property
    def spec(self) -> ConnectionSpec | None:
        if self.connection_name is None:
            return self.device.primary_connection
        return next((c for c in self.device.connections if c.name == self.connection_name), None)

    def validate(self) -> None:
        if self.spec is not None:
            return
        if self.connection_name is None:
            self.errors.append("the device has no connection command (commands.connect)")
        else:
            self.errors.append(f"the device has no connection '{self.connection_name}' (commands.connections)")

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher.console import Console  # deferred: pexpect is a heavy import

        if ctx.connection is not None and ctx.connection.spawn.isalive():
            ctx.logger.debug("reusing the existing connection")
            return
        spec = self.spec
        shared = self._opened_elsewhere(ctx, spec)
        if shared is not None:
            # one console per serial line: a second client would steal half of the board's output
            # (the reference shares it across namespaces, e.g. a master OS and the OS it deploys)
            ctx.logger.debug(f"reusing the console '{spec.command}' opened in another namespace")
            ctx.connection = shared
            return
        ctx.logger.info(f"[{self.namespace}] connect-device Connecting to device using '{spec.command}'")
        console = Console(spec.command, ctx.logger, ctx.processes, spec.name, ctx.device.spawn_maxread, spec.tags)
        console.character_delay_ms = ctx.device.character_delays.get("boot", 0)
        console.prompts = [ctx.device.default_shell_prompt]
        ctx.connection = console
        time.sleep(0.05)  # telnet needs a moment before the board's first bytes are worth reading

    @staticmethod
    def _opened_elsewhere(ctx: JobContext, spec: ConnectionSpec) -> Console | None:
        for state in ctx.namespaces.values():
            console = state.connection
            if console is not None and console.command == spec.command and console.spawn.isalive():
                return console
        return None
