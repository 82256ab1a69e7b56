"""``deploy: to: docker``: the device is a container; make sure its image is on the worker's daemon.

The test overlay is built here, as for any deploy; the docker boot copies it
into the container before starting it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.overlay import OverlayAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.docker_cli import DockerClient
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def image_spec(value: Any) -> tuple[str, bool]:
    """``image: name`` or ``image: {name, local}`` -> (name, local)."""
    if isinstance(value, dict):
        return str(value.get("name") or ""), bool(value.get("local"))
    return str(value or ""), False


def device_remote(device: DeviceConfig) -> str:
    """The daemon the device dictionary names for its containers ('' : the dispatcher's)."""
    options = (device.boot_methods().get("docker") or {}).get("options") or {}
    return str(options.get("remote") or "")


class DockerImageAction(Action):
    name = "docker-image"
    description = "make sure the docker image is on the worker"
    summary = "docker image"
    section = "deploy"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        if not image_spec(self.parameters.get("image"))[0]:
            self.errors.append("'image' must name a docker image")

    def run(self, ctx: JobContext) -> None:
        image, local = image_spec(self.parameters.get("image"))
        client = DockerClient(ctx.dispatcher, device_remote(ctx.device))
        client.ensure_image(image, local, timeout=max(1.0, ctx.deadlines.remaining()))
        ctx.current.container_image = image
        ctx.logger.info(f"docker image '{image}' is ready")


class DockerDeployAction(Action):
    name = "deploy-docker"
    description = "deploy docker images"
    summary = "deploy docker"
    section = "deploy"

    def __init__(self, device: DeviceConfig, plan: JobPlan) -> None:
        super().__init__()
        self.device = device
        self.plan = plan

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        pipeline.add_action(DockerImageAction(self.device), parameters)


class DockerDeploy(DeployMethod):
    name = "docker"
    schema = DEPLOY_TARGETS["docker"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DockerDeployAction(device, plan)
