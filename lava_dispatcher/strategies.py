"""Deploy, boot and test methods as strategies that accept or refuse a job block.

When no strategy accepts a block, the user sees every strategy's reason.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lava_common.exceptions import JobError
from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan


class Strategy:
    section: ClassVar[str] = ""
    priority: ClassVar[int] = 0

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        raise NotImplementedError

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        raise NotImplementedError


def method_accepts(
    device: DeviceConfig, params: dict[str, Any], key: str, value: str, methods: dict[str, Any], what: str
) -> tuple[bool, str]:
    """The usual rule: the block names this method and the device lists it."""
    if params.get(key) != value:
        return False, f"'{key}' is not '{value}'"
    if value not in methods:
        return False, f"the device does not support {what} '{value}'"
    return True, "accepted"


def select_strategy(
    strategies: list[type[Strategy]], device: DeviceConfig, params: dict[str, Any], where: str
) -> type[Strategy]:
    accepted: list[type[Strategy]] = []
    reasons: list[str] = []
    for strategy in strategies:
        ok, reason = strategy.accepts(device, params)
        if ok:
            accepted.append(strategy)
        else:
            reasons.append(f"{strategy.__name__}: {reason}")
    if not accepted:
        raise JobError(f"{where}: no strategy accepts this block ({'; '.join(reasons)})")
    return max(accepted, key=lambda s: s.priority)


def retry_count(device: DeviceConfig, params: dict[str, Any], section: str) -> int:
    if "failure_retry" in params:
        return int(params["failure_retry"])
    if section == "boot" and device.boot_retry is not None:
        return device.boot_retry
    return device.failure_retry
