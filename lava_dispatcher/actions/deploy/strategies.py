"""Deploy strategies: which deploy methods this dispatcher has, and when they apply."""

from __future__ import annotations

from typing import Any

from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.strategies import Strategy


class TmpfsDeploy(Strategy):
    section = "deploy"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        if params.get("to") != "tmpfs":
            return False, "'to' is not 'tmpfs'"
        if "qemu" not in device.boot_methods():
            return False, "the device is not a QEMU device (no boot method 'qemu')"
        return True, "accepted"

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.deploy.tmpfs import DeployImagesAction

        return DeployImagesAction(plan)


class TftpDeploy(Strategy):
    section = "deploy"

    @classmethod
    def accepts(cls, device: DeviceConfig, params: dict[str, Any]) -> tuple[bool, str]:
        if params.get("to") != "tftp":
            return False, "'to' is not 'tftp'"
        if "tftp" not in device.deploy_methods():
            return False, "the device does not support deploy method 'tftp'"
        return True, "accepted"

    @classmethod
    def build(cls, device: DeviceConfig, params: dict[str, Any], plan: JobPlan) -> Action:
        from lava_dispatcher.actions.deploy.tftp import TftpAction

        return TftpAction(plan)


DEPLOY_STRATEGIES: list[type[Strategy]] = [TmpfsDeploy, TftpDeploy]
