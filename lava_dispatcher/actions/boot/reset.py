"""Power-cycle the device (or just power it on, when it has no way to cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.power import CommandPowerDriver

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class ResetDevice(Action):
    name = "reset-device"
    description = "reboot or power-cycle the device"
    summary = "reboot the device"
    section = "boot"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        power = self.device.power
        if not (power.hard_reset or power.power_on):
            self.errors.append("the device has neither hard_reset nor power_on commands")

    def run(self, ctx: JobContext) -> None:
        driver = CommandPowerDriver(ctx)
        if driver.can_cycle:
            driver.cycle()
        else:
            driver.on()
