"""``deploy: to: recovery``: the images for a board that a recovery tool will write, kept for the job.

They are downloaded (checked, decompressed) into the job's downloads folder, as ``to: downloads``
does: the recovery boot (``boot: method: recovery``) switches the board into its USB recovery mode,
and the job's own test then writes them (``downloads://NAME``, or the files beside its shell).
"""

from __future__ import annotations

from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.downloads import DownloadsAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock


class RecoveryDeploy(DeployMethod):
    name = "recovery"
    schema = DEPLOY_TARGETS["recovery"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DownloadsAction(plan)
