"""Always the last action: power the board off and close the consoles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.constants import CLEANUP_TIMEOUT
from lava_dispatcher.action import Action
from lava_dispatcher.actions.test.services_stop import StopTestServicesAction
from lava_dispatcher.power import run_commands

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class PowerOffAction(Action):
    name = "power-off"
    description = "discontinue power to device"
    summary = "send power_off command"
    section = "finalize"

    def run(self, ctx: JobContext) -> None:
        for console in ctx.connections():
            # the board's last words, before its power goes; a board at its shell prompt has said them
            # all: only what has already arrived is read, no wait for a silence
            if console.at_prompt:
                console.drain(quiet=0)
            else:
                console.drain()
        if ctx.device.power.power_off:
            run_commands(ctx, ctx.device.power.power_off, "power-off")
        for state in ctx.namespaces.values():
            if state.connection is not None and state.connection.owns_board:
                # the console process is the board itself (QEMU): stopping it is the power-off
                state.connection.stop_process()
                state.connection = None


class ReadFeedbackAction(Action):
    name = "read-feedback"
    description = "Check for messages on all other namespaces"
    summary = "Read from other namespaces"
    section = "finalize"

    def run(self, ctx: JobContext) -> None:
        for state in ctx.namespaces.values():
            if state.connection is not None:
                state.connection.drain()
                state.connection.close()
                state.connection = None


class FinalizeAction(Action):
    name = "finalize"
    description = "finish the process and cleanup"
    summary = "finalize the job"
    section = "finalize"

    def __init__(self, stop_services: bool = False) -> None:
        super().__init__()
        self.stop_services = stop_services  # the job has test services: none may outlive it

    def populate(self, parameters: dict[str, Any]) -> None:
        # finalize must get its full time even when the job ran out of it
        self.timeout.duration = min(self.timeout.duration, CLEANUP_TIMEOUT)
        pipeline = self.new_pipeline()
        pipeline.add_action(PowerOffAction(), parameters)
        pipeline.add_action(ReadFeedbackAction(), parameters)
        if self.stop_services:
            pipeline.add_action(StopTestServicesAction(), parameters)
