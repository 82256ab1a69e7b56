"""``deploy: to: downloads`` (and its older name ``to: download``): fetch images for a later deploy, flash nothing.

Each image is downloaded (checked, decompressed) and kept under the job's
scratch dir as ``downloads/<file name>``, which later deploys name as
``downloads:///<file name>`` (a fastboot deploy of Android images converted
first, say). ``postprocess: docker: {image, steps}`` runs the steps in that
image with the folder mounted at the same path; the steps are shell lines, run
by the container's shell, never the worker's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.download import DOWNLOADS_DIR, DownloadRetry
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.fastboot import HostTools, check_docker, last_line, run_tool
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class KeepDownloads(Action):
    name = "keep-downloads"
    description = "keep the downloaded images for downloads:// URLs"
    summary = "keep downloads"
    section = "deploy"

    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels

    def run(self, ctx: JobContext) -> None:
        folder = ctx.scratch() / DOWNLOADS_DIR
        for label in self.labels:
            image = ctx.downloaded[label]
            kept = folder / image.name
            if kept.exists():
                raise JobError(f"images.{label}: two images of this deploy are named '{image.name}'")
            image.replace(kept)
            ctx.downloaded[label] = kept
            ctx.logger.info(f"{label}: kept as downloads:///{image.name}")


class PostprocessInDocker(Action):
    name = "download-postprocess"
    description = "run the postprocess steps in a container, over the downloaded images"
    summary = "postprocess downloads"
    section = "deploy"

    def run(self, ctx: JobContext) -> None:
        docker = self.parameters["postprocess"]["docker"]
        image = str(docker.get("image") or docker.get("name"))
        check_docker(ctx, HostTools(serial="", docker_image=image, docker_local=bool(docker.get("local"))))
        folder = str(ctx.scratch() / DOWNLOADS_DIR)
        for step in docker.get("steps") or []:
            argv = ["docker", "run", "--rm", "--init", "--network=none", "--volume", f"{folder}:{folder}",
                    "--workdir", folder, image, "sh", "-c", str(step)]
            code, output = run_tool(ctx, argv, ctx.deadlines.remaining())
            if code != 0:
                raise InfrastructureError(f"postprocess step '{step}' in '{image}' failed: {last_line(output)}")


class DownloadsAction(Action):
    name = "downloads-deploy"
    description = "download images for a later deploy"
    summary = "download images"
    section = "deploy"

    def populate(self, parameters: dict[str, Any]) -> None:
        images = parameters.get("images") if isinstance(parameters.get("images"), dict) else {}
        pipeline = self.new_pipeline()
        for label, block in images.items():
            pipeline.add_action(DownloadRetry(label, block, dest_dir=DOWNLOADS_DIR), parameters)
        pipeline.add_action(KeepDownloads(list(images)), parameters)
        if isinstance(parameters.get("postprocess"), dict) and isinstance(parameters["postprocess"].get("docker"), dict):
            pipeline.add_action(PostprocessInDocker(), parameters)

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.parameters.get("images"), dict) or not self.parameters["images"]:
            self.errors.append("'images' must name at least one image to download")
        docker = (self.parameters.get("postprocess") or {}).get("docker")
        if isinstance(docker, dict) and not (docker.get("image") or docker.get("name")):
            self.errors.append("postprocess.docker.image is required")


class DownloadsDeploy(DeployMethod):
    name = "downloads"
    schema = DEPLOY_TARGETS["downloads"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DownloadsAction()


class DownloadDeploy(DownloadsDeploy):
    name = "download"
    schema = DEPLOY_TARGETS["download"]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        if block.parameters.get("to") == cls.name and "downloads" in device.deploy_methods():
            return True, "accepted (the older name of downloads)"
        return super().accepts(device, block)
