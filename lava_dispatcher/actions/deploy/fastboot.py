"""``deploy: to: fastboot``: download the images, bring the phone into fastboot, flash each to its partition.

Each key of ``images`` names a partition. The device's ``flash_cmds_order``
lists the partitions flashed first, in that order; the others follow in the
job's order. An image's ``reboot`` (``hard-reset``, ``fastboot-reboot``,
``fastboot-reboot-bootloader``, ``fastboot-reboot-fastboot``) runs right after
it is flashed. Sparse images go to ``fastboot`` as they are: it sends them in
pieces the phone's ``max-download-size`` accepts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.image_overlay import ApplyImageOverlay
from lava_dispatcher.actions.deploy.overlay import OverlayAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.fastboot import (
    HostTools,
    check_docker,
    last_line,
    run_fastboot,
    run_tool,
    wait_for_fastboot,
)
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.power import CommandPowerDriver

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

PARTITION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
REBOOTS = ("hard-reset", "fastboot-reboot", "fastboot-reboot-bootloader", "fastboot-reboot-fastboot")


def flash_order(device: DeviceConfig, labels: list[str]) -> list[str]:
    first = device.raw.get("flash_cmds_order") or []
    ordered = [str(p) for p in first if str(p) in labels] if isinstance(first, list) else []
    return ordered + [label for label in labels if label not in ordered]


class EnterFastboot(Action):
    """Power-cycle the phone when the lab can; ask a running OS to reboot to its bootloader; wait for fastboot."""

    name = "enter-fastboot"
    description = "bring the device into its fastboot bootloader"
    summary = "enter fastboot"
    section = "deploy"

    def __init__(self, device: DeviceConfig, tools: HostTools, reboot_to_fastboot: bool) -> None:
        super().__init__()
        self.device, self.tools, self.reboot_to_fastboot = device, tools, reboot_to_fastboot

    def run(self, ctx: JobContext) -> None:
        tools = self.tools.on(ctx.dispatcher)
        check_docker(ctx, tools)
        driver = CommandPowerDriver(ctx)
        if driver.can_cycle:
            driver.cycle()
        elif driver.commands.power_on:
            driver.on()
        if self.reboot_to_fastboot and tools.adb_serial:
            code, _ = run_tool(ctx, tools.fastboot("getvar", "product"), 3.0)
            if code != 0:
                # a phone running its OS: only adb can send it to the bootloader; without adb, the wait says it all
                try:
                    code, output = run_tool(ctx, tools.adb("reboot", "bootloader"), 30.0)
                except InfrastructureError as exc:
                    code, output = -1, str(exc)
                if code != 0:
                    ctx.logger.warning(f"adb -s {tools.adb_serial} reboot bootloader: {last_line(output)}")
        wait_for_fastboot(ctx, tools)


class FlashPartition(Action):
    name = "fastboot-flash"
    description = "flash one image to its partition"
    summary = "fastboot flash"
    section = "deploy"

    def __init__(self, tools: HostTools, partition: str) -> None:
        super().__init__()
        self.tools, self.partition = tools, partition

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "partition": self.partition}

    def run(self, ctx: JobContext) -> None:
        tools = self.tools.on(ctx.dispatcher)
        image = ctx.downloaded[self.partition]
        ctx.logger.info(f"flashing {image.name} ({image.stat().st_size} bytes) to '{self.partition}'")
        run_fastboot(ctx, tools, f"flashing partition '{self.partition}'", "flash", self.partition, str(image),
                     files=(image,), timeout=ctx.deadlines.remaining())


class RebootBetweenFlashes(Action):
    name = "fastboot-reboot-step"
    description = "reboot the device as the image asks, between two flashes"
    summary = "reboot between flashes"
    section = "deploy"

    def __init__(self, tools: HostTools, how: str) -> None:
        super().__init__()
        self.tools, self.how = tools, how

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "reboot": self.how}

    def run(self, ctx: JobContext) -> None:
        tools = self.tools.on(ctx.dispatcher)
        if self.how == "hard-reset":
            driver = CommandPowerDriver(ctx)
            if not driver.can_cycle:
                raise InfrastructureError("reboot: hard-reset: the device has no hard_reset (or power_off and power_on)")
            driver.cycle()
        else:
            command = self.how.removeprefix("fastboot-")
            run_fastboot(ctx, tools, f"reboot: {self.how}", command, timeout=60.0)
            if command == "reboot":
                return  # the phone boots its OS: nothing more to wait for
        wait_for_fastboot(ctx, tools)


class FastbootDeployAction(Action):
    name = "fastboot-deploy"
    description = "download images and flash them with fastboot"
    summary = "fastboot deployment"
    section = "deploy"

    def __init__(self, device: DeviceConfig, plan: JobPlan) -> None:
        super().__init__()
        self.device, self.plan = device, plan

    def populate(self, parameters: dict[str, Any]) -> None:
        images = parameters.get("images") if isinstance(parameters.get("images"), dict) else {}
        tools = HostTools.for_job(self.device, parameters)
        pipeline = self.new_pipeline()
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        for label, block in images.items():
            pipeline.add_action(DownloadRetry(label, block), parameters)
        with_overlay = [label for label, block in images.items() if isinstance(block, dict) and block.get("apply-overlay")]
        if with_overlay and self.plan.needs_overlay:
            pipeline.add_action(ApplyImageOverlay(with_overlay), parameters)
        if self.device.primary_connection is not None:
            # the console is open before the phone powers on: the boot that follows logs in on it
            pipeline.add_action(ConnectDevice(self.device), parameters)
        pipeline.add_action(EnterFastboot(self.device, tools, self.plan.reboot_to_fastboot), parameters)
        for partition in flash_order(self.device, list(images)):
            pipeline.add_action(FlashPartition(tools, partition), parameters)
            how = images[partition].get("reboot") if isinstance(images[partition], dict) else None
            if how:
                pipeline.add_action(RebootBetweenFlashes(tools, str(how)), parameters)

    def validate(self) -> None:
        super().validate()
        images = self.parameters.get("images")
        if not isinstance(images, dict) or not images:
            self.errors.append("'images' must name at least one partition to flash")
            return
        self.errors.extend(HostTools.for_job(self.device, self.parameters).errors())
        for label, block in images.items():
            if not PARTITION.match(str(label)):
                self.errors.append(f"images.{label}: not a partition name")
            how = block.get("reboot") if isinstance(block, dict) else None
            if how is not None and how not in REBOOTS:
                self.errors.append(f"images.{label}.reboot: '{how}' is not one of {', '.join(REBOOTS)}")
        order = self.device.raw.get("flash_cmds_order")
        if order is not None and not isinstance(order, list):
            self.errors.append("the device's flash_cmds_order must be a list of partitions")


class FastbootDeploy(DeployMethod):
    name = "fastboot"
    schema = DEPLOY_TARGETS["fastboot"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return FastbootDeployAction(device, plan)
