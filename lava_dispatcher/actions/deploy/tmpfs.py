"""``deploy: to: tmpfs`` for QEMU: download the images and prepare their QEMU arguments.

The test overlay goes into the image that asks for it (``overlays: {lava: true}`` or
``apply-overlay: true``: a cpio ramdisk, or the ext filesystem of a disk image), else onto a disk of
its own that the board mounts (``apply-overlay-guest``) when the job's QEMU arguments attach that disk
(``-device ...,drive=lavatest``: the reference always makes it), else into the cpio ramdisk, else onto
that disk.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.guest_overlay import DEFAULT_DRIVE_ID, ApplyOverlayGuest, guest_parameters
from lava_dispatcher.actions.deploy.overlay import (
    LAVA_OVERLAY,
    ApplyOverlayAction,
    ImageOverlays,
    OverlayAction,
    TreeOverlay,
)
from lava_dispatcher.actions.deploy.qcow2_convert import Qcow2ToRaw, converts_to_raw
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod, qemu_method_accepts
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.qemu_args import check_job_args, image_argv, split_job_text

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def overlay_target(images: dict[str, Any]) -> str | None:
    """The image that receives the lava overlay: the one asking for it, else a cpio.newc ramdisk."""
    for label, block in images.items():
        if isinstance(block, dict) and ((block.get("overlays") or {}).get("lava") or block.get("apply-overlay")):
            return label
    for label, block in images.items():
        if isinstance(block, dict) and (block.get("format") == "cpio.newc" or label in ("ramdisk", "initrd")):
            return label
    return None


def asks_for_overlay(images: dict[str, Any]) -> bool:
    return any(isinstance(block, dict) and ((block.get("overlays") or {}).get("lava") or block.get("apply-overlay"))
               for block in images.values())


def attaches_overlay_disk(plan: JobPlan, images: dict[str, Any], drive_id: str) -> bool:
    """The job's own QEMU arguments (``extra_options``, an ``image_arg``) attach the overlay disk by its id."""
    extra = plan.context.get("extra_options")
    texts = [str(item) for item in (extra if isinstance(extra, list) else [extra] if extra else [])]
    texts += [str(block.get("image_arg", "")) for block in images.values() if isinstance(block, dict)]
    pattern = re.compile(rf"\bdrive={re.escape(drive_id)}(?![\w.-])")
    return any(pattern.search(text) for text in texts)


def transfers_overlay(plan: JobPlan, namespace: str) -> bool:
    """A boot of this namespace fetches the overlay itself (``transfer_overlay``): no image carries it."""
    return any("transfer_overlay" in block.parameters for block in plan.section("boot") if block.namespace == namespace)


def image_partition(block: dict[str, Any]) -> int | None:
    """The partition (0-based) holding an image's filesystem: ``partition``, or ``root_partition``."""
    value = block.get("partition", block.get("root_partition"))
    return value if isinstance(value, int) else None


def with_lava_overlay(images: dict[str, Any], needs_overlay: bool) -> list[ImageOverlays]:
    """The images that get overlays, with the lava overlay added where the test shell needs it."""
    chosen: list[ImageOverlays] = []
    target = overlay_target(images) if needs_overlay else None
    for label, block in images.items():
        if not isinstance(block, dict):
            continue
        overlays = dict(block.get("overlays") or {})
        if label == target:
            overlays.setdefault(LAVA_OVERLAY.name, True)
        if overlays:
            found = tuple(_overlays(label, overlays))
            # an Android sparse image is a disk image whatever its format says
            kind = block.get("format") or ("raw" if block.get("sparse") else None)
            chosen.append(ImageOverlays(label, kind, found, image_partition(block)))
    return chosen


def _overlays(label: str, overlays: dict[str, Any]) -> list[TreeOverlay]:
    found = []
    for name, spec in overlays.items():
        if name == LAVA_OVERLAY.name:
            if spec:
                found.append(LAVA_OVERLAY)
        elif isinstance(spec, dict):
            found.append(TreeOverlay(name, f"{label}.{name}", str(spec.get("path", "/")), spec.get("format", "tar")))
    return found


def substitute_image_args(images: dict[str, Any], paths: dict[str, Any]) -> list[str]:
    """QEMU arguments of every ``image_arg``, each ``{label}`` replaced by that image's local path."""
    mapping = {label: str(path) for label, path in paths.items() if "." not in label}
    args: list[str] = []
    for block in images.values():
        template = block.get("image_arg") if isinstance(block, dict) else None
        if template:
            args += image_argv(str(template), mapping)
    return args


def image_arg_errors(images: dict[str, Any]) -> list[str]:
    """Each ``image_arg`` must use its own ``{label}`` and only the QEMU options a job may give."""
    errors = []
    for label, block in images.items():
        if not isinstance(block, dict) or "image_arg" not in block:
            continue
        where = f"images.{label}.image_arg"
        text = str(block["image_arg"])
        if "{" + label + "}" not in text:
            errors.append(f"{where} does not use '{{{label}}}'")
        args, split_errors = split_job_text(text, where)
        errors += split_errors or check_job_args(args, where, placeholders=True)
    return errors


class DeployImagesAction(Action):
    name = "deployimages"
    description = "deploy images using guestfs"
    summary = "deploy images"
    section = "deploy"

    def __init__(self, plan: JobPlan, device: DeviceConfig) -> None:
        super().__init__()
        self.plan = plan
        self.device = device

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        images = parameters.get("images") or {}
        in_images = self.plan.needs_overlay and not transfers_overlay(self.plan, self.namespace)
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        for label, block in images.items():
            pipeline.add_action(DownloadRetry(label, block if isinstance(block, dict) else {}), parameters)
            if converts_to_raw(block):
                pipeline.add_action(Qcow2ToRaw(label), parameters)
            overlays = (block or {}).get("overlays") if isinstance(block, dict) else None
            for name, spec in (overlays or {}).items():
                if name != "lava" and isinstance(spec, dict):
                    pipeline.add_action(DownloadRetry(f"{label}.{name}", spec), parameters)
        drive_id = str(guest_parameters(self.device).get("driveid") or DEFAULT_DRIVE_ID)
        on_disk = in_images and not asks_for_overlay(images) and (
            overlay_target(images) is None or attaches_overlay_disk(self.plan, images, drive_id))
        targets = with_lava_overlay(images, in_images and not on_disk)
        if targets:
            pipeline.add_action(ApplyOverlayAction(targets), parameters)
        if on_disk:
            pipeline.add_action(ApplyOverlayGuest(self.device), parameters)

    def validate(self) -> None:
        super().validate()
        images = self.parameters.get("images")
        if not isinstance(images, dict) or not images:
            self.errors.append("'images' must list at least one image")
            return
        self.errors.extend(image_arg_errors(images))

    def run(self, ctx: JobContext) -> None:
        super().run(ctx)
        images = self.parameters.get("images") or {}
        guest_drive = ctx.overlay.boot_args if ctx.overlay is not None else []
        ctx.boot_image_args = substitute_image_args(images, ctx.downloaded) + guest_drive


class QemuDeployMethod(DeployMethod):
    """A deploy any QEMU device offers, whether or not it lists it among its deploy methods."""

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        return qemu_method_accepts(device, block, "to", cls.name)


class TmpfsDeploy(QemuDeployMethod):
    name = "tmpfs"
    schema = DEPLOY_TARGETS["tmpfs"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DeployImagesAction(plan, device)
