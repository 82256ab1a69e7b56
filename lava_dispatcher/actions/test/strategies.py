"""Test strategies: the kind of test block is inferred from its keys."""

from __future__ import annotations

from typing import Any

from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.strategies import Strategy, retry_count


class TestShellStrategy(Strategy):
    __test__ = False
    section = "test"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        if "definitions" not in params:
            return False, "no 'definitions'"
        if "docker" in params:
            return False, "docker test shells are not supported"
        return True, "accepted"

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.test.shell import TestShellRetry

        return TestShellRetry(plan, retry_count(device, params, "test"))


class InteractiveStrategy(Strategy):
    section = "test"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        return ("interactive" in params, "no 'interactive'")

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.test.interactive import InteractiveRetry

        return InteractiveRetry(retry_count(device, params, "test"))


class MonitorStrategy(Strategy):
    section = "test"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        return ("monitors" in params, "no 'monitors'")

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.test.monitor import MonitorRetry

        return MonitorRetry(retry_count(device, params, "test"))


TEST_STRATEGIES: list[type[Strategy]] = [TestShellStrategy, InteractiveStrategy, MonitorStrategy]
