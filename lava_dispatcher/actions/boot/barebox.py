"""``boot: method: barebox``: power-cycle, stop barebox's autoboot, type a command list, log in.

The same steps as U-Boot's, with barebox's prompts and messages (``constants.barebox``,
``actions.boot.methods.barebox``); its prompt names the board and the directory, so it is a
regular expression (``barebox@[^:]+:[^ ]+ ``).
"""

from __future__ import annotations

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.uboot import UBootAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock


class BareboxAction(UBootAction):
    name = "barebox-action"
    description = "interactive barebox action"
    summary = "pass barebox commands"
    bootloader = "barebox"


class BareboxBoot(BootMethod):
    name = "barebox"
    schema = BOOT_METHODS["barebox"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return BareboxAction(device, retry_count(device, block))
