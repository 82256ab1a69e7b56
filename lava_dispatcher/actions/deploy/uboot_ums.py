"""``deploy: to: u-boot-ums``: an image U-Boot's ``ums`` command lets the worker write to the board's eMMC.

The deploy downloads the image (checksums, decompression) and writes the test overlay into its
``root_partition``. The boot (``method: u-boot``, ``commands: ums``) then types ``ums 0 mmc 0``:
the board shows its eMMC to the worker as a USB disk, found at the dictionary's
``uboot_mass_storage_device`` (``actions.deploy.methods.u-boot-ums.parameters``); the worker
writes the image there (``flash-uboot-ums``), stops ``ums`` with Ctrl-C and resets the board,
which boots what was written.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.overlay import ApplyOverlayAction, OverlayAction
from lava_dispatcher.actions.deploy.removable import MEDIA_DIR
from lava_dispatcher.actions.deploy.tmpfs import with_lava_overlay
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

UMS_WAIT = 60  # seconds for the board's disk to appear on the worker after `ums`


def ums_device(device: DeviceConfig) -> str:
    """The worker's path of the disk the board shows in ``ums`` mode ("" when the dictionary has none)."""
    method = device.deploy_methods().get("u-boot-ums") or {}
    return str((method.get("parameters") or {}).get("uboot_mass_storage_device") or "")


class UBootUmsDeployAction(Action):
    name = "uboot-ums-deploy"
    description = "download an image for U-Boot's ums mode"
    summary = "download image for ums"
    section = "deploy"

    def __init__(self, device: DeviceConfig, plan: JobPlan) -> None:
        super().__init__()
        self.device = device
        self.plan = plan

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        image = dict(parameters.get("image") or {})
        if self.plan.needs_overlay:
            image.setdefault("overlays", {"lava": True})  # into root_partition, where the test shell runs
            pipeline.add_action(OverlayAction(self.plan), parameters)
        pipeline.add_action(DownloadRetry("image", image, MEDIA_DIR), parameters)
        targets = with_lava_overlay({"image": image}, self.plan.needs_overlay)
        if targets:
            pipeline.add_action(ApplyOverlayAction(targets), parameters)

    def validate(self) -> None:
        super().validate()
        if not ums_device(self.device):
            self.errors.append("to: u-boot-ums: the device dictionary sets no uboot_mass_storage_device "
                               "(the worker's path of the board's disk in ums mode)")
        image = self.parameters.get("image") or {}
        if self.plan.needs_overlay and not isinstance(image.get("root_partition", image.get("partition")), int):
            self.errors.append("image.root_partition: the partition (counted from 0) that gets the test overlay "
                               "is required when a test shell follows")


class FlashUBootUms(Action):
    """The board is in ``ums`` mode: write the deployed image to its disk from the worker, then stop ``ums``."""

    name = "flash-uboot-ums"
    description = "write the image to the board's disk shown by U-Boot's ums"
    summary = "flash image over ums"
    section = "boot"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        if not ums_device(self.device):
            self.errors.append("commands: ums: the device dictionary sets no uboot_mass_storage_device")

    def run(self, ctx: JobContext) -> None:
        image = ctx.downloaded.get("image")
        if image is None:
            raise JobError("commands: ums needs a 'deploy: to: u-boot-ums' before it in this namespace")
        target = ums_device(ctx.device)
        deadline = time.monotonic() + UMS_WAIT
        while not _is_block_device(target):
            if time.monotonic() > deadline:
                raise InfrastructureError(f"the board's disk did not appear at {target} within {UMS_WAIT} s of 'ums'")
            time.sleep(0.5)
        ctx.logger.info(f"writing {image.name} to {target}")
        with image.open("rb") as source, open(target, "wb") as disk:
            shutil.copyfileobj(source, disk, 4 << 20)
            disk.flush()
            os.fsync(disk.fileno())
        ctx.connection.sendcontrol("c")  # leave ums: U-Boot returns to its prompt


def _is_block_device(path: str) -> bool:
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False


class UBootUmsDeploy(DeployMethod):
    name = "u-boot-ums"
    schema = DEPLOY_TARGETS["u-boot-ums"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return UBootUmsDeployAction(device, plan)
