"""``boot: method: depthcharge``: a Chromebook's Depthcharge netboot console.

After power-on Depthcharge announces its netboot (``interrupt-prompt``); a newline gives
its ``dpch`` prompt, where one ``tftpboot <server> <kernel> <cmdline file> [<ramdisk>]``
loads and starts the kernel. The kernel command line is not typed: it is the method's
``cmdline`` (placeholders filled), written to a file in the job's TFTP directory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import (
    BootloaderCommands,
    BootloaderInterrupt,
    BootloaderOverlay,
    BootloaderSettings,
    placeholders,
    substitute,
)
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import add_shell_login
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

METHOD = "depthcharge"
CMDLINE_FILE = "cmdline"


def depthcharge_cmdline(device: DeviceConfig, parameters: dict[str, Any]) -> str | None:
    """The kernel command line of the named command list (None for an inline list: the device's default)."""
    chosen = parameters.get("commands")
    entries = device.boot_methods().get(METHOD) or {}
    entry = entries.get(chosen) if isinstance(chosen, str) else None
    if isinstance(entry, dict) and entry.get("cmdline") is not None:
        return str(entry["cmdline"])
    return None


class DepthchargeOverlay(BootloaderOverlay):
    """Write the kernel command line file, then fill ``{DEPTHCHARGE_KERNEL}``, ``{CMDLINE}`` and
    ``{DEPTHCHARGE_RAMDISK}`` (empty without a ramdisk) besides the usual placeholders."""

    name = "depthcharge-overlay"
    description = "write the kernel command line and substitute job data into the depthcharge command"

    def validate(self) -> None:
        super().validate()
        if isinstance(self.parameters.get("commands"), str) and depthcharge_cmdline(self.device, self.parameters) is None:
            self.errors.append(f"commands '{self.parameters['commands']}': the device gives no 'cmdline' for it")

    def run(self, ctx: JobContext) -> None:
        if ctx.tftp_dir is None:
            raise JobError("depthcharge needs a 'deploy: to: tftp' before this boot (its files are fetched over TFTP)")
        values = placeholders(ctx, self.parameters)
        if "KERNEL" not in values:
            raise JobError("depthcharge needs a kernel from the deploy")
        cmdline = depthcharge_cmdline(ctx.device, self.parameters) or ""
        path = ctx.tftp_dir / CMDLINE_FILE
        path.write_text(" ".join(substitute([cmdline], values)) + "\n", encoding="utf-8")
        path.chmod(0o644)  # read by the TFTP server, another user
        ctx.logger.info(f"kernel command line written to {path}: {path.read_text().strip()}")
        self.defaults = {
            "DEPTHCHARGE_KERNEL": values["KERNEL"],
            "CMDLINE": str(path.relative_to(ctx.dispatcher.tftp_root)),
            "DEPTHCHARGE_RAMDISK": values.get("RAMDISK", ""),
        }
        super().run(ctx)
        self.commands_action.commands = [command.rstrip() for command in self.commands_action.commands]


class DepthchargeAction(ConsoleBootRetry):
    name = "depthcharge-action"
    description = "interactive depthcharge action"
    summary = "sets up boot with depthcharge"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        settings = BootloaderSettings(self.device, METHOD, parameters)
        commands = BootloaderCommands(settings)
        pipeline.add_action(DepthchargeOverlay(self.device, METHOD, commands), parameters)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(BootloaderInterrupt(settings), parameters)
        pipeline.add_action(commands, parameters)
        add_shell_login(pipeline, parameters, error_messages=settings.error_messages)


class DepthchargeBoot(BootMethod):
    name = METHOD
    schema = BOOT_METHODS[METHOD]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DepthchargeAction(device, retry_count(device, block))
