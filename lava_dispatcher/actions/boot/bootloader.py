"""Talking to a bootloader shell: interrupt autoboot, send a substituted command list."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

BOOT_COMMANDS = {"image": "booti", "zimage": "bootz", "uimage": "bootm"}


def dispatcher_ip(ctx: JobContext) -> str:
    import socket  # deferred: a heavy import that `lava-run --validate` does not need

    if ctx.dispatcher.dispatcher_ip:
        return str(ctx.dispatcher.dispatcher_ip)
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def placeholders(ctx: JobContext, parameters: dict[str, Any]) -> dict[str, str]:
    """Values for ``{SERVER_IP}``, ``{KERNEL_ADDR}``, ``{RAMDISK}``... from the deploy and the device."""
    command = BOOT_COMMANDS.get(ctx.kernel_type, "booti")
    addresses = ctx.device.parameters.get(command) or {}
    root = ctx.dispatcher.tftp_root
    values = {
        "SERVER_IP": dispatcher_ip(ctx),
        "LAVA_DISPATCHER_IP": dispatcher_ip(ctx),
        "LAVA_JOB_ID": ctx.job_id,
        "KERNEL_ADDR": str(addresses.get("kernel", "")),
        "RAMDISK_ADDR": str(addresses.get("ramdisk", "")),
        "DTB_ADDR": str(addresses.get("dtb", "")),
        "TEE_ADDR": str(addresses.get("tee", "")),
        "DTBO_ADDR": str(addresses.get("dtbo", "")),
    }
    for label in ("kernel", "ramdisk", "dtb", "tee", "dtbo"):
        path = ctx.downloaded.get(label)
        if path is not None:
            values[label.upper()] = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if "RAMDISK" in values:
        values["INITRD"] = values["RAMDISK"]
    preseed = ctx.downloaded.get("preseed")  # an installer's answers (Debian preseed, kickstart)
    if preseed is not None:
        values["PRESEED_CONFIG"] = str(preseed.relative_to(root)) if preseed.is_relative_to(root) else str(preseed)
    ramdisk = f"{values['RAMDISK_ADDR']}:${{initrd_size}}" if "RAMDISK" in values else "-"
    values["BOOTX"] = f"{command} {values['KERNEL_ADDR']} {ramdisk} {values['DTB_ADDR']}"
    return values


PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Z_]+)\}")  # {KERNEL}, never a bootloader's own ${var}


def substitute(commands: list[str], values: dict[str, str]) -> list[str]:
    """Fill the placeholders; a command naming something this job does not have (no DTB...) is dropped."""

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    filled = [PLACEHOLDER.sub(replace, command) for command in commands]
    return [command for command in filled if not PLACEHOLDER.search(command)]


class BootloaderSettings:
    """The bootloader's prompts and messages: device constants, overridden by method parameters."""

    def __init__(self, device: DeviceConfig, method: str) -> None:
        constants = device.bootloader_constants(method)
        params = (device.boot_methods().get(method) or {}).get("parameters") or {}
        self.prompt = str(params.get("bootloader_prompt") or constants.get("bootloader-prompt") or "=>")
        self.interrupt_prompt = str(
            params.get("interrupt_prompt") or constants.get("interrupt-prompt") or "Hit any key to stop autoboot"
        )
        self.interrupt_char = str(params.get("interrupt_char", constants.get("interrupt-character", " ")))
        self.needs_interrupt = bool(params.get("needs_interrupt", True))
        self.final_message = str(constants.get("final-message") or "Starting kernel")
        self.error_messages = [str(m) for m in constants.get("error-messages") or []]


class BootloaderInterrupt(Action):
    name = "bootloader-interrupt"
    description = "interrupt bootloader"
    summary = "interrupt bootloader to get an interactive shell"
    section = "boot"

    def __init__(self, settings: BootloaderSettings) -> None:
        super().__init__()
        self.settings = settings

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        if not self.settings.needs_interrupt:
            return
        console.expect([self.settings.interrupt_prompt], self.connection_wait(ctx), what="the autoboot prompt")
        console.send(self.settings.interrupt_char)
        ctx.logger.input(repr(self.settings.interrupt_char))
        console.expect([re.escape(self.settings.prompt)], self.connection_wait(ctx), what="the bootloader prompt")


class BootloaderCommands(Action):
    name = "bootloader-commands"
    description = "send commands to bootloader"
    summary = "interactive bootloader"
    section = "boot"

    def __init__(self, settings: BootloaderSettings) -> None:
        super().__init__()
        self.settings = settings
        self.commands: list[str] = []

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        values = placeholders(ctx, self.parameters)
        commands = substitute(self.commands, values)
        errors = self.settings.error_messages
        prompt = re.escape(self.settings.prompt)
        for index, command in enumerate(commands):
            last = index == len(commands) - 1
            console.sendline(command)
            wanted = [self.settings.final_message if last else prompt, *errors]
            found = console.expect(wanted, self.connection_wait(ctx), what=f"the bootloader after '{command}'")
            if found > 0:
                raise InfrastructureError(f"matched a bootloader error message: '{wanted[found]}'")


def command_list(device: DeviceConfig, method: str, parameters: dict[str, Any]) -> tuple[list[str], str | None]:
    """The commands to send, and an error when they cannot be found."""
    chosen = parameters.get("commands")
    if isinstance(chosen, list):
        return [str(c) for c in chosen], None
    methods = device.boot_methods().get(method) or {}
    entry = methods.get(chosen) if isinstance(chosen, str) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("commands"), list):
        known = sorted(k for k, v in methods.items() if isinstance(v, dict) and "commands" in v)
        return [], f"commands '{chosen}' are not defined for this device (known: {', '.join(known)})"
    return [str(c) for c in entry["commands"]], None


def check_deploy(parameters: dict[str, Any]) -> None:
    if parameters.get("commands") is None:
        raise JobError("'commands' is required: a named command list or an inline list")
