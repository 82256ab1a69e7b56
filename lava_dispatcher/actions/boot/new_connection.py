"""``boot: method: new_connection``: open another console of the device in this block's namespace.

The console is an entry of the device's ``commands.connections`` (a second
UART behind ser2net, an ssh login...), named by the block's ``connection``.
With ``prompts`` (and optionally ``auto_login``) the block also waits for the
shell, so that a later test starts from a quiet console; without, it only
connects, as the reference does.
"""

from __future__ import annotations

from typing import Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import AutoLoginAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod
from lava_dispatcher.plan import JobPlan, PlanBlock


class NewConnectionAction(Action):
    name = "new-connection"
    description = "open another console of the device"
    summary = "new connection"
    section = "boot"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        pipeline.add_action(ConnectDevice(self.device, connection=str(parameters["connection"])), parameters)
        if parameters.get("prompts") or parameters.get("auto_login"):
            pipeline.add_action(AutoLoginAction(wait_kernel=False), parameters)


class NewConnectionBoot(BootMethod):
    """Any device: what it needs is the console named by ``connection``, which ConnectDevice checks."""

    name = "new_connection"
    schema = BOOT_METHODS["new_connection"]
    any_device = True

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return NewConnectionAction(device)
