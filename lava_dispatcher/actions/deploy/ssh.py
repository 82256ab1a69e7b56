"""``deploy: to: ssh``: the device is a running host; prepare the test overlay as a tarball.

Nothing is flashed: the boot (``method: ssh``) copies the tarball with scp and
unpacks it at the host's ``/``. Images to copy to the host (kernel, ramdisk...)
are not supported yet and are refused at validation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.ssh import SshGuestLogin
from lava_dispatcher.actions.deploy.overlay import OverlayAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.protocols.multinode_requests import action_requests
from lava_dispatcher.ssh_target import refuse_dictionary_keys

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

IMAGE_KEYS = ("firmware", "kernel", "ramdisk", "initrd", "dtb", "dtbo", "modules", "nfsrootfs", "persistent_nfs",
              "preseed", "tee")


def overlay_tarball_name(job_id: str) -> str:
    return f"lava-overlay-{job_id}.tar.gz"


class CompressOverlay(Action):
    name = "compress-overlay"
    description = "Create a lava overlay tarball and store alongside the job"
    summary = "Compress the lava overlay files"
    section = "deploy"

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher.test_shell.ramdisk import pack_overlay_tarball  # deferred: tarfile is heavy

        if ctx.overlay is None:
            return
        tarball = ctx.scratch() / overlay_tarball_name(ctx.job_id)
        pack_overlay_tarball(ctx.overlay.root, tarball)
        ctx.overlay.tarball = tarball
        ctx.logger.info(f"overlay tarball {tarball.name} ({tarball.stat().st_size} bytes)")


class ScpOverlayDeploy(Action):
    name = "scp-overlay-deploy"
    description = "prepare the overlay for a host reached over ssh"
    summary = "ssh deployment"
    section = "deploy"

    def __init__(self, plan: JobPlan, login: Action | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.login = login  # a secondary connection with no boot block: the deploy logs in itself

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
            pipeline.add_action(CompressOverlay(), parameters)
        if self.login is not None:
            pipeline.add_action(self.login, parameters)

    def validate(self) -> None:
        super().validate()
        refuse_dictionary_keys(self.parameters, self.errors)
        for key in IMAGE_KEYS:
            if key in self.parameters:
                self.errors.append(f"'{key}': copying images to an ssh host is not supported (only the test overlay)")
        connection = self.parameters.get("connection")
        if connection is not None and connection != "ssh":
            self.errors.append(f"connection '{connection}': a deploy to ssh only uses the 'ssh' connection")


class SshDeploy(DeployMethod):
    name = "ssh"
    schema = DEPLOY_TARGETS["ssh"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        if not plan.host_role or plan.boots_after(block):
            return ScpOverlayDeploy(plan)
        # a MultiNode guest whose tests follow the deploy: the host is what the deploy's wait received
        requests, _ = action_requests(block.parameters, block.where)
        variable = next((request.host_variable for request in requests if request.host_variable), None)
        return ScpOverlayDeploy(plan, SshGuestLogin(device, variable))
