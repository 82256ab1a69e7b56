"""``boot: method: qemu``: build the QEMU command line from the device and the images, spawn it.

KVM on our lab hosts is not usable (nested PVM), so QEMU always runs with
``-accel tcg`` and options that need KVM are dropped.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.login import (
    add_shell_login,
)
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.qemu_args import admin_argv
from lava_dispatcher.retry import BootRetry

if TYPE_CHECKING:
    import subprocess

    from lava_dispatcher.context import JobContext

KVM_ONLY = {"-enable-kvm", "-cpu host"}


def qemu_command(device: DeviceConfig, image_args: list[str], method: str = "qemu") -> list[str]:
    """QEMU's argument list: the device's options (template text, split like a shell would, never run
    by one) then the images' arguments, which are already a list."""
    params = (device.boot_methods().get(method) or {}).get("parameters") or {}
    command = params.get("command")
    if not command:
        raise JobError(f"the device's boot.methods.{method}.parameters.command is missing")
    options = [str(o) for o in (params.get("options") or [])] + [str(e) for e in (params.get("extra") or [])]
    kept = [
        option.replace("accel=kvm:tcg", "accel=tcg").replace("accel=kvm", "accel=tcg")
        for option in options
        if option.strip() not in KVM_ONLY
    ]
    try:
        argv = [*shlex.split(str(command)), *admin_argv(kept)]
    except ValueError as exc:
        raise JobError(f"the device's QEMU options cannot be split into arguments: {exc}") from exc
    if "-accel" not in argv and not any("accel=" in arg for arg in argv):
        argv += ["-accel", "tcg"]
    return argv + list(image_args)


class CallQemuAction(Action):
    name = "execute-qemu"
    description = "call qemu to boot the image"
    summary = "execute qemu to boot the image"
    section = "boot"
    method = "qemu"  # the device's boot method whose parameters give the command line

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        params = (self.device.boot_methods().get(self.method) or {}).get("parameters") or {}
        if not params.get("command"):
            self.errors.append(f"the device's boot.methods.{self.method}.parameters.command is missing")

    def image_args(self, ctx: JobContext) -> list[str]:
        """The images' arguments: what the deploy prepared."""
        return ctx.boot_image_args

    def extra_args(self, ctx: JobContext) -> list[str]:
        """What a variant adds after the images' arguments."""
        return []

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher.console import Console  # deferred: pexpect is a heavy import

        command = qemu_command(ctx.device, self.image_args(ctx), self.method) + self.extra_args(ctx)
        if ctx.multinode is not None and ctx.multinode.network is not None:
            command += ctx.multinode.network.qemu_args()  # the group's own network (multinode_network)
        version = _ask_qemu_version(command[0])  # answers while the board boots
        ctx.logger.info(f"Boot command: {shlex.join(command)}")
        if ctx.connection is not None:
            ctx.connection.stop_process()
        console = Console(command, ctx.logger, ctx.processes, "qemu", ctx.device.spawn_maxread)
        console.character_delay_ms = ctx.device.character_delays.get("boot", 0)
        console.prompts = [ctx.device.default_shell_prompt]
        console.owns_board = True
        ctx.connection = console
        self.results = {
            "job_arch": ctx.plan.context.get("arch", ""),
            "host_arch": os.uname().machine,  # platform.machine()'s answer, without its 2-10 ms import
            "qemu_version": _qemu_version(version),
        }

    def cleanup(self, ctx: JobContext) -> None:
        if ctx.connection is not None:
            ctx.connection.stop_process()


def _ask_qemu_version(binary: str) -> subprocess.Popen[str]:
    import subprocess  # deferred: only a run needs it, not `lava-run --validate`

    try:
        return subprocess.Popen([binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError as exc:
        raise InfrastructureError(f"cannot run '{binary}': {exc}") from exc


def _qemu_version(probe: subprocess.Popen[str]) -> str:
    import subprocess  # deferred: only a run needs it, not `lava-run --validate`

    try:
        out = probe.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired as exc:
        probe.kill()
        probe.wait()
        raise InfrastructureError(f"cannot run '{probe.args[0]}': {exc}") from exc
    first = out.splitlines()[0] if out else ""
    return first.split("version", 1)[-1].strip().split()[0] if "version" in first else first


class BootQemuImage(Action):
    name = "boot-qemu-image"
    description = "boot image with retry"
    summary = "boot with retry"
    section = "boot"

    def __init__(self, device: DeviceConfig, call: type[CallQemuAction] = CallQemuAction) -> None:
        super().__init__()
        self.device = device
        self.call = call

    def populate(self, parameters: dict[str, Any]) -> None:
        self.new_pipeline().add_action(self.call(self.device), parameters)


class BootQemuRetry(BootRetry):
    name = "boot-image-retry"
    description = "boot image using QEMU command line"
    summary = "boot QEMU image"
    call = CallQemuAction

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(BootQemuImage(self.device, self.call), parameters)
        add_shell_login(pipeline, parameters)


class QemuBoot(BootMethod):
    name = "qemu"
    schema = BOOT_METHODS["qemu"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return BootQemuRetry(device, retry_count(device, block))
