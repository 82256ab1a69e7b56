"""``boot: method: minimal``: connect, power-cycle unless ``reset: false``, then log in."""

from __future__ import annotations

from typing import Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import AutoLoginAction, ExpectShellSession, ExportDeviceEnv
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.actions.boot.transfer_overlay import OverlayUnpack
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import BootRetry


class MinimalBoot(BootRetry):
    name = "minimal-boot"
    description = "connect and reset device"
    summary = "connect and reset device"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(AutoLoginAction(wait_kernel=bool(parameters.get("wait_kernel", False))), parameters)
        pipeline.add_action(ExpectShellSession(), parameters)
        if "transfer_overlay" in parameters:
            pipeline.add_action(OverlayUnpack(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)


class MinimalBootStrategy(BootMethod):
    name = "minimal"
    schema = BOOT_METHODS["minimal"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return MinimalBoot(device, retry_count(device, block))
