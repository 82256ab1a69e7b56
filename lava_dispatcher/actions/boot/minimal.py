"""``boot: method: minimal``: connect, power-cycle unless ``reset: false``, then log in.

``reset: true`` (the default) power-cycles through the device's ``hard_reset``
command (its PDU), else ``power_off`` + ``power_on``. ``pre_power_command: true``
and ``pre_os_command: true`` run the device's commands of those names before
and after the reset. Without ``prompts`` the board is only connected and reset:
nobody logs in (a later block talks to it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import (
    add_shell_login,
)
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.power import run_commands
from lava_dispatcher.retry import BootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class DeviceHookCommands(Action):
    """The device's ``pre_power_command`` or ``pre_os_command``, run on the worker.

    Command lines of the device dictionary (the lab's), never of the job.
    """

    section = "boot"

    def __init__(self, device: DeviceConfig, key: str) -> None:
        super().__init__()
        self.device = device
        self.key = key
        self.name = key.replace("_", "-")
        self.description = self.summary = f"run the device's {key}"

    def validate(self) -> None:
        if not self.device.command_list(self.key):
            self.errors.append(f"{self.key}: true, but the device has no commands.{self.key}")

    def run(self, ctx: JobContext) -> None:
        run_commands(ctx, self.device.command_list(self.key), self.key)


class MinimalBoot(BootRetry):
    name = "minimal-boot"
    description = "connect and reset device"
    summary = "connect and reset device"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("pre_power_command"):
            pipeline.add_action(DeviceHookCommands(self.device, "pre_power_command"), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        if parameters.get("pre_os_command"):
            pipeline.add_action(DeviceHookCommands(self.device, "pre_os_command"), parameters)
        if not parameters.get("prompts"):
            return
        add_shell_login(pipeline, parameters, wait_kernel=bool(parameters.get("wait_kernel", False)))


class MinimalBootStrategy(BootMethod):
    name = "minimal"
    schema = BOOT_METHODS["minimal"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return MinimalBoot(device, retry_count(device, block))
