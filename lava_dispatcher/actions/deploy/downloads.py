"""``deploy: to: download``/``downloads`` (fetch artefacts for later deploys) and ``to: overlay``.

``downloads`` leaves each image in ``<scratch>/downloads/<label>/``, where a later deploy finds it
as ``downloads://NAME``; the images that ask for it (``apply-overlay: true``, ``overlays:``) get the
test overlay first, and ``postprocess: docker: steps:`` then run in a container with that folder as
its working directory. ``to: overlay`` only builds the test overlay, for boards that fetch it at boot
(``transfer_overlay``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.download import DOWNLOADS_DIR, DownloadRetry
from lava_dispatcher.actions.deploy.overlay import ApplyOverlayAction, OverlayAction
from lava_dispatcher.actions.deploy.tmpfs import overlay_target, with_lava_overlay
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.docker_cli import DockerClient
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

POSTPROCESS_WORKDIR = "/lava-downloads"


class DownloadsAction(Action):
    name = "download-deploy"
    description = "download files for later deploys"
    summary = "download deployment"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        images = parameters.get("images") or {}
        # only an image that asks for the overlay gets it: these files are not booted as they are
        wants_overlay = self.plan.needs_overlay and overlay_target(images) is not None
        if wants_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        for label, block in images.items():
            pipeline.add_action(DownloadRetry(label, block if isinstance(block, dict) else {}, DOWNLOADS_DIR),
                                parameters)
        targets = with_lava_overlay(images, wants_overlay)
        if targets:
            pipeline.add_action(ApplyOverlayAction(targets), parameters)
        if (parameters.get("postprocess") or {}).get("docker"):
            pipeline.add_action(PostprocessWithDocker(), parameters)

    def validate(self) -> None:
        super().validate()
        images = self.parameters.get("images")
        if not isinstance(images, dict) or not images:
            self.errors.append("'images' must list at least one image")


class PostprocessWithDocker(Action):
    name = "download-postprocess-docker"
    description = "Post-process downloads with docker"
    summary = "download-postprocess"
    section = "deploy"

    def validate(self) -> None:
        docker = self.parameters["postprocess"]["docker"]
        if not isinstance(docker.get("steps"), list) or not docker["steps"]:
            self.errors.append("postprocess.docker.steps must list at least one command")

    def run(self, ctx: JobContext) -> None:
        docker = self.parameters["postprocess"]["docker"]
        folder = ctx.scratch() / DOWNLOADS_DIR
        # the daemon (docker_host) and client (docker_binary) of the dispatcher configuration, as for docker devices;
        # the steps are the job's own commands, meant for a shell: they run inside the container only
        client = DockerClient(ctx.dispatcher)
        args = ["run", "--rm", "--network", "none", "-v", f"{folder}:{POSTPROCESS_WORKDIR}",
                "-w", POSTPROCESS_WORKDIR, str(docker["image"]), "sh", "-e", "-c", "\n".join(docker["steps"])]
        ctx.logger.info(f"postprocess in {docker['image']}: {len(docker['steps'])} steps")
        proc = client.call(args, "postprocess.docker", timeout=self.timeout.duration)
        for line in (proc.stdout + proc.stderr).splitlines():
            ctx.logger.debug(line)
        if proc.returncode != 0:
            raise JobError(f"postprocess.docker: the steps failed in '{docker['image']}' (exit {proc.returncode})")


class DownloadsDeploy(DeployMethod):
    """Any device: the files stay on the worker."""

    name = "downloads"
    schema = DEPLOY_TARGETS["downloads"]
    any_device = True

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DownloadsAction(plan)


class DownloadDeploy(DownloadsDeploy):
    name = "download"
    schema = DEPLOY_TARGETS["download"]


class OverlayOnlyAction(Action):
    name = "overlay-deploy"
    description = "build the test overlay for a board that fetches it itself"
    summary = "overlay deployment"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def populate(self, parameters: dict[str, Any]) -> None:
        self.new_pipeline().add_action(OverlayAction(self.plan), parameters)


class OverlayDeploy(DownloadsDeploy):
    name = "overlay"
    schema = DEPLOY_TARGETS["overlay"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return OverlayOnlyAction(plan)
