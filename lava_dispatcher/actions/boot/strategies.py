"""Boot strategies: which boot methods this dispatcher has, and when they apply."""

from __future__ import annotations

from typing import Any

from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.strategies import Strategy, method_accepts, retry_count


class QemuBoot(Strategy):
    section = "boot"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        return method_accepts(device, params, "method", "qemu", device.boot_methods(), "boot method")

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.boot.qemu import BootQemuRetry

        return BootQemuRetry(device, retry_count(device, params, "boot"))


class UBootBoot(Strategy):
    section = "boot"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        return method_accepts(device, params, "method", "u-boot", device.boot_methods(), "boot method")

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.boot.uboot import UBootAction

        return UBootAction(device, retry_count(device, params, "boot"))


class MinimalBootStrategy(Strategy):
    section = "boot"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        return method_accepts(device, params, "method", "minimal", device.boot_methods(), "boot method")

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.boot.minimal import MinimalBoot

        return MinimalBoot(device, retry_count(device, params, "boot"))


BOOT_STRATEGIES: list[type[Strategy]] = [QemuBoot, UBootBoot, MinimalBootStrategy]
