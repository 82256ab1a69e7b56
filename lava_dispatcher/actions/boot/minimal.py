"""``boot: method: minimal``: connect, power-cycle unless ``reset: false``, then log in."""

from __future__ import annotations

from typing import Any

from lava_dispatcher.actions.boot.login import (
    AutoLoginAction,
    ConnectDevice,
    ExpectShellSession,
    ExportDeviceEnv,
    ResetDevice,
)
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.retry import RetryAction


class MinimalBoot(RetryAction):
    name = "minimal-boot"
    description = "connect and reset device"
    summary = "connect and reset device"
    section = "boot"

    def __init__(self, device: DeviceConfig, retries: int) -> None:
        super().__init__(max_retries=retries)
        self.device = device

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        pipeline = self.new_pipeline()
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(AutoLoginAction(wait_kernel=bool(parameters.get("wait_kernel", False))), parameters)
        pipeline.add_action(ExpectShellSession(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)
