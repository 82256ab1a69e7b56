"""``deploy: to: uuu``: the images NXP's ``uuu`` will write, kept in the job's downloads folder.

They are downloaded (checked, decompressed) as ``to: downloads`` does; ``boot: method: uuu``
names them by label (``-b sd {boot}``) and flashes the board over USB OTG.
"""

from __future__ import annotations

from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.downloads import DownloadsAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock


class UuuDeploy(DeployMethod):
    name = "uuu"
    schema = DEPLOY_TARGETS["uuu"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DownloadsAction(plan)
