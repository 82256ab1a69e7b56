"""``boot: method: minimal``: connect, power-cycle unless ``reset: false``, then log in."""

from __future__ import annotations

from typing import Any

from lava_dispatcher.action import Pipeline
from lava_dispatcher.actions.boot.login import (
    AutoLoginAction,
    ConnectDevice,
    ExpectShellSession,
    ExportDeviceEnv,
    ResetDevice,
)
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
        pipeline.add_action(ExportDeviceEnv(), parameters)
