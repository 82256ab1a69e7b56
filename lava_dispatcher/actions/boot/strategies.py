"""Boot strategies: which boot methods this dispatcher has, and when they apply."""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.strategies import Strategy, method_accepts, retry_count


class BootMethod(Strategy):
    """A boot method the device lists; its action class is imported only when a job uses it."""

    section = "boot"
    method: ClassVar[str]
    action: ClassVar[str]  # "module:Class", imported lazily to keep `lava-run --validate` fast

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        return method_accepts(device, params, "method", cls.method, device.boot_methods(), "boot method")

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        module, name = cls.action.split(":")
        action_class = getattr(importlib.import_module(module), name)
        return action_class(device, retry_count(device, params, "boot"))


class QemuBoot(BootMethod):
    method = "qemu"
    action = "lava_dispatcher.actions.boot.qemu:BootQemuRetry"


class UBootBoot(BootMethod):
    method = "u-boot"
    action = "lava_dispatcher.actions.boot.uboot:UBootAction"


class MinimalBootStrategy(BootMethod):
    method = "minimal"
    action = "lava_dispatcher.actions.boot.minimal:MinimalBoot"


BOOT_STRATEGIES: list[type[Strategy]] = [QemuBoot, UBootBoot, MinimalBootStrategy]
