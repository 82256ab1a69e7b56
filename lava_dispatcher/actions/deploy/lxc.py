"""``deploy: to: lxc``: create the job's LXC container (``protocols: lava-lxc``) with the test overlay in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.overlay import OverlayAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.lxc_cli import PROTOCOL, LxcContainer, protocol_errors, settings
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def job_container(ctx: JobContext, plan: JobPlan) -> LxcContainer:
    """The job's container: named by the protocol, kept in the job's scratch space."""
    chosen = settings(dict(plan.protocols.get(PROTOCOL) or {}), ctx.job_id)
    return LxcContainer(ctx.scratch() / "lxc", chosen.name)


class LxcCreateAction(Action):
    name = "lxc-create-action"
    description = "create the job's lxc container"
    summary = "create lxc"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def validate(self) -> None:
        self.errors.extend(protocol_errors(self.plan.protocols.get(PROTOCOL)))
        if self.parameters.get("packages"):
            self.errors.append("packages: the lab's LXC containers have no network to install packages from")

    def run(self, ctx: JobContext) -> None:
        chosen = settings(dict(self.plan.protocols[PROTOCOL]), ctx.job_id)
        container = job_container(ctx, self.plan)
        container.destroy()  # one left by a killed run of the same job id
        container.create(chosen.template, chosen.template_args, timeout=max(1.0, ctx.deadlines.remaining()))
        if ctx.overlay is not None:
            container.copy_in(ctx.overlay.root)
        ctx.logger.info(f"lxc container '{container.name}' created from template '{chosen.template}'")

    def cleanup(self, ctx: JobContext) -> None:
        try:
            job_container(ctx, self.plan).destroy()
        except JobError:
            pass  # no valid protocol: nothing was created


class LxcDeployAction(Action):
    name = "lxc-deploy"
    description = "deploy an lxc container"
    summary = "deploy lxc"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        pipeline.add_action(LxcCreateAction(self.plan), parameters)


class LxcDeploy(DeployMethod):
    """On any device, when the job has the lava-lxc protocol: the container helps the board (or is the device)."""

    name = "lxc"
    schema = DEPLOY_TARGETS["lxc"]
    any_device = True

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return LxcDeployAction(plan)
