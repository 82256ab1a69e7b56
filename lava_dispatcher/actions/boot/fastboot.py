"""``boot: method: fastboot``: leave the bootloader for the flashed OS, then log in on the serial console.

What leaves the bootloader is the device's fastboot sequence
(``actions.boot.methods.fastboot``, from ``fastboot_sequence``): ``reboot``
(``fastboot reboot``), ``continue`` (``fastboot continue``), ``boot`` or
``no-flash-boot`` (``fastboot boot`` with the deploy's ``boot`` image, not
flashed). The job's ``commands`` are fastboot command lines run before it (``oem
...``, ``--set-active=a``), each split into one argv, never a shell. A phone without a serial
console is reached over adb: the boot then waits for ``adb wait-for-device``.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import (
    add_shell_login,
)
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.fastboot import HostTools, check_docker, last_line, run_fastboot, run_tool
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

SEQUENCE_STEPS = ("reboot", "continue", "boot", "no-flash-boot")


def sequence(device: DeviceConfig) -> list[str]:
    value = device.boot_methods().get("fastboot")
    if isinstance(value, str):
        return [value]
    return [str(step) for step in value] if isinstance(value, list) and value else ["reboot"]


def job_commands(parameters: dict[str, Any]) -> list[list[str]]:
    commands = parameters.get("commands")
    if not isinstance(commands, list):
        return []
    return [shlex.split(str(command)) for command in commands]


def _names_serial(arg: str) -> bool:
    return arg.startswith("-s") and not arg.startswith("--")


class FastbootBootCommands(Action):
    name = "fastboot-boot-commands"
    description = "send the fastboot commands that start the OS"
    summary = "fastboot boot"
    section = "boot"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        unknown = [step for step in sequence(self.device) if step not in SEQUENCE_STEPS]
        if unknown:
            self.errors.append(f"the device's fastboot sequence has unknown steps: {', '.join(unknown)} "
                               f"(known: {', '.join(SEQUENCE_STEPS)})")
        try:
            bad = [argv for argv in job_commands(self.parameters) if not argv or any(_names_serial(a) for a in argv)]
        except ValueError as exc:
            self.errors.append(f"commands: {exc}")
            return
        if bad:
            self.errors.append("commands: each entry is one fastboot command ('oem unlock', '--set-active=a'); "
                               "the device's serial is not the job's to change (-s)")
        self.errors.extend(HostTools.for_job(self.device, self.parameters).errors())

    def run(self, ctx: JobContext) -> None:
        tools = HostTools.for_job(self.device, self.parameters).on(ctx.dispatcher)
        check_docker(ctx, tools)
        for argv in job_commands(self.parameters):
            run_fastboot(ctx, tools, "boot commands", *argv, timeout=60.0)
        for step in sequence(self.device):
            if step in ("boot", "no-flash-boot"):
                image = ctx.downloaded.get("boot")
                if image is None:
                    raise JobError("fastboot sequence 'boot' needs a 'boot' image from the deploy")
                run_fastboot(ctx, tools, "fastboot boot", "boot", str(image), files=(image,), timeout=300.0)
            else:
                run_fastboot(ctx, tools, f"fastboot {step}", step, timeout=60.0)


class WaitForAdb(Action):
    name = "wait-for-adb"
    description = "wait for the booted OS to answer adb"
    summary = "adb wait-for-device"
    section = "boot"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        if not HostTools.for_job(self.device, self.parameters).adb_serial:
            self.errors.append("a device without a serial console needs adb_serial_number")

    def run(self, ctx: JobContext) -> None:
        tools = HostTools.for_job(self.device, self.parameters).on(ctx.dispatcher)
        code, output = run_tool(ctx, tools.adb("wait-for-device"), ctx.deadlines.remaining())
        if code != 0:
            raise InfrastructureError(f"adb -s {tools.adb_serial} wait-for-device: the OS never answered "
                                      f"({last_line(output)})")


class FastbootBootAction(ConsoleBootRetry):
    name = "fastboot-boot"
    description = "boot the flashed OS with fastboot, then log in"
    summary = "fastboot boot"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        if self.device.primary_connection is not None:
            pipeline.add_action(ConnectDevice(self.device), parameters)
        pipeline.add_action(FastbootBootCommands(self.device), parameters)
        if self.device.primary_connection is None:
            pipeline.add_action(WaitForAdb(self.device), parameters)
            return
        add_shell_login(pipeline, parameters)



class FastbootBoot(BootMethod):
    name = "fastboot"
    schema = BOOT_METHODS["fastboot"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return FastbootBootAction(device, retry_count(device, block))
