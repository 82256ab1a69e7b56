"""Talking to a bootloader shell: interrupt autoboot, send a substituted command list."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError, LAVATimeoutError
from lava_common.records import record
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.secondary_media import check_media_boot, media_values
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
    # a boot from secondary media says which kernel the written image holds
    command = BOOT_COMMANDS.get(parameters.get("kernel_type") or ctx.kernel_type, "booti")
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
        if path is None and label == "ramdisk":  # `to: nbd` calls its ramdisk `initrd`
            path = ctx.downloaded.get("initrd")
        if path is not None:
            values[label.upper()] = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if "RAMDISK" in values:
        values["INITRD"] = values["RAMDISK"]
    values.update(network_root_values(ctx))
    values.update(media_values(ctx, parameters))
    target = (ctx.device.parameters.get("interfaces") or {}).get("target")
    if isinstance(target, dict) and target.get("mac"):
        values["LAVA_MAC"] = str(target["mac"])
    preseed = ctx.downloaded.get("preseed")  # an installer's answers (Debian preseed, kickstart)
    if preseed is not None:
        values["PRESEED_CONFIG"] = str(preseed.relative_to(root)) if preseed.is_relative_to(root) else str(preseed)
    ramdisk = f"{values['RAMDISK_ADDR']}:${{initrd_size}}" if "RAMDISK" in values else "-"
    values["BOOTX"] = f"{command} {values['KERNEL_ADDR']} {ramdisk} {values['DTB_ADDR']}"
    return values


def network_root_values(ctx: JobContext) -> dict[str, str]:
    """``{NFSROOTFS}``, ``{NFS_SERVER_IP}``, ``{NBDSERVERIP}``, ``{NBDSERVERPORT}`` when the deploy made them."""
    values = {}
    if ctx.nfs_export is not None:
        values["NFSROOTFS"] = ctx.nfs_export.path
        values["NFS_SERVER_IP"] = ctx.nfs_export.server
    if ctx.nbd is not None:
        values["NBDSERVERIP"] = ctx.nbd.host
        values["NBDSERVERPORT"] = str(ctx.nbd.port)
    return values


PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Z_]+)\}")  # {KERNEL}, never a bootloader's own ${var}


def substitute(commands: list[str], values: dict[str, str]) -> list[str]:
    """Fill the placeholders; a command naming something this job does not have (no DTB...) is dropped."""

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    filled = [PLACEHOLDER.sub(replace, command) for command in commands]
    return [command for command in filled if not PLACEHOLDER.search(command)]


# the final message each bootloader prints when it hands over to the kernel, when the device does not say
DEFAULT_FINAL_MESSAGES = {"u-boot": "Starting kernel"}
DHCP_ATTEMPTS = 3  # a DHCP exchange on a busy lab network can fail once; anything else is the lab's fault
# bootloaders whose echo of a typed line is the line itself (wrapped at the screen's width), and that
# erase the line on Ctrl-U: a command is only entered once its echo is whole
ECHO_CHECKED = {"ipxe"}
# bootloaders whose prompt names the board and the directory (barebox@BBB:/ ): their prompt is a regex
REGEX_PROMPTS = {"barebox"}
TYPING_ATTEMPTS = 3


def echo_pattern(command: str) -> str:
    """The echo of ``command``, allowing the line breaks the bootloader inserts at its screen's width."""
    return r"(?:\r*\n)?".join(re.escape(char) for char in command)


class BootloaderErrorMessage(InfrastructureError):
    """The bootloader printed one of the device's error messages."""


class BootloaderSettings:
    """One bootloader's prompts and messages: device constants, then the device's method parameters,
    then the job block (``bootloader_prompt``, ``parameters: bootloader-final-message``)."""

    def __init__(self, device: DeviceConfig, method: str, block: dict[str, Any] | None = None) -> None:
        constants = device.bootloader_constants(method)
        params = (device.boot_methods().get(method) or {}).get("parameters") or {}
        block = block or {}
        job_messages = block.get("parameters") if isinstance(block.get("parameters"), dict) else {}
        self.method = method
        self.prompt = str(
            block.get("bootloader_prompt") or params.get("bootloader_prompt") or constants.get("bootloader-prompt")
            or "=>"
        )
        self.prompt_pattern = self.prompt if method in REGEX_PROMPTS else re.escape(self.prompt)
        self.interrupt_prompt = str(
            params.get("interrupt_prompt") or constants.get("interrupt-prompt") or "Hit any key to stop autoboot"
        )
        self.interrupt_char = str(params.get("interrupt_char", constants.get("interrupt-character", " ")))
        ctrl = params.get("interrupt_ctrl_list", constants.get("interrupt_ctrl_list")) or []
        self.interrupt_ctrl_list = [str(c) for c in ctrl] if isinstance(ctrl, list) else [str(ctrl)]
        self.interrupt_newline = bool(constants.get("interrupt-newline", False))
        self.needs_interrupt = bool(params.get("needs_interrupt", True))
        self.check_echo = method in ECHO_CHECKED
        final = job_messages.get("bootloader-final-message") or constants.get("final-message")
        self.final_message: str | None = str(final) if final else DEFAULT_FINAL_MESSAGES.get(method)
        self.error_messages = [str(m) for m in constants.get("error-messages") or []]


@record(frozen=True)
class BootScript:
    """How a bootloader runs a script of its commands, fetched from the job's TFTP directory."""

    file_name: str
    render: Callable[[list[str]], str]  # the filled commands -> the script's text
    # (placeholder values, the script's path under the TFTP root, the filled commands) -> what is typed
    fetch_commands: Callable[[dict[str, str], str, list[str]], list[str]]


class BootloaderOverlay(Action):
    """Fill the placeholders of the chosen command list with this job's files and addresses.

    With ``use_bootscript: true`` the filled list becomes a script in the job's TFTP directory
    and the bootloader is only told to fetch and run it.
    """

    name = "bootloader-overlay"
    description = "substitute job data into bootloader command list"
    summary = "replace placeholders with job data"
    section = "boot"

    def __init__(
        self,
        device: DeviceConfig,
        method: str,
        commands_action: BootloaderCommands,
        script: BootScript | None = None,
        defaults: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.device = device
        self.method = method
        self.commands_action = commands_action
        self.script = script
        self.defaults = defaults or {}  # placeholder values used when the job and device give none

    def validate(self) -> None:
        commands, error = command_list(self.device, self.method, self.parameters)
        if error:
            self.errors.append(error)
        self.errors.extend(check_media_boot(self.device, self.parameters))
        if self.parameters.get("use_bootscript") and self.script is None:
            self.errors.append(f"use_bootscript: boot method '{self.method}' cannot run a boot script")
        self.commands_action.commands = commands

    def run(self, ctx: JobContext) -> None:
        if isinstance(self.parameters.get("commands"), list):
            ctx.logger.warning("Using inline bootloader commands from the job definition")
        commands, _ = command_list(ctx.device, self.method, self.parameters)
        values = {**self.defaults, **placeholders(ctx, self.parameters)}
        commands = substitute(commands, values)
        if self.parameters.get("use_bootscript") and self.script is not None:
            commands = self._write_script(ctx, self.script, values, commands)
        self.commands_action.commands = commands

    def _write_script(self, ctx: JobContext, script: BootScript, values: dict[str, str], commands: list[str]) -> list[str]:
        if ctx.tftp_dir is None:
            raise JobError("use_bootscript needs a 'deploy: to: tftp' before this boot")
        path = ctx.tftp_dir / script.file_name
        path.write_text(script.render(commands), encoding="utf-8")
        path.chmod(0o644)  # read by the TFTP server, another user (see PublishTftpFiles)
        ctx.logger.info(f"boot script written to {path}")
        return script.fetch_commands(values, str(path.relative_to(ctx.dispatcher.tftp_root)), commands)


class BootloaderInterrupt(Action):
    name = "bootloader-interrupt"
    description = "interrupt bootloader"
    summary = "interrupt bootloader to get an interactive shell"
    section = "boot"

    def __init__(self, settings: BootloaderSettings) -> None:
        super().__init__()
        self.settings = settings

    def run(self, ctx: JobContext) -> None:
        # a prompt that never comes means a board (or a device configuration) that does not work: the lab's fault
        try:
            self._interrupt(ctx)
        except LAVATimeoutError as exc:
            raise InfrastructureError(str(exc)) from exc

    def _interrupt(self, ctx: JobContext) -> None:
        console = ctx.connection
        settings = self.settings
        delay = ctx.device.character_delays.get("boot", 0)
        if settings.needs_interrupt:
            console.expect(
                [settings.interrupt_prompt], self.connection_wait(ctx),
                what=f"the {settings.method} interrupt prompt '{settings.interrupt_prompt}'",
            )
            if settings.interrupt_ctrl_list:
                for char in settings.interrupt_ctrl_list:
                    console.sendcontrol(char)
            elif settings.interrupt_newline:
                console.sendline(settings.interrupt_char, delay_ms=delay)
            else:
                ctx.logger.input(repr(settings.interrupt_char))
                console.send(settings.interrupt_char, delay_ms=delay)
        # a bootloader that stops by itself still has to show its prompt before it is typed at
        console.expect(
            [settings.prompt_pattern], self.connection_wait(ctx), what=f"the {settings.method} prompt '{settings.prompt}'"
        )


class BootloaderCommands(Action):
    """Type each command at the bootloader prompt, waiting for the prompt (or an error) in between.

    Characters go out one by one with the device's boot character delay: serial bootloaders
    such as iPXE read without flow control and lose characters typed at full speed.
    """

    name = "bootloader-commands"
    description = "send commands to bootloader"
    summary = "interactive bootloader"
    section = "boot"

    def __init__(self, settings: BootloaderSettings, expect_final: bool = True) -> None:
        super().__init__()
        self.settings = settings
        self.expect_final = expect_final  # False: the commands need not boot anything
        self.commands: list[str] = []

    def run(self, ctx: JobContext) -> None:
        delay = ctx.device.character_delays.get("boot", 0)
        for index, command in enumerate(self.commands):
            if index < len(self.commands) - 1:
                self._send_and_wait(ctx, command, delay)
                continue
            self._type(ctx, command, delay)
            if self.expect_final:
                if self.settings.final_message:
                    self._expect(ctx, self.settings.final_message, f"'{self.settings.final_message}'", command)
            else:
                self._settle(ctx, command)

    def _settle(self, ctx: JobContext, command: str) -> None:
        """After the last command of commands that need not boot: the prompt again, or a kernel starting.

        Either way the console is quiet for the next block (an interactive test typing at the prompt).
        """
        ends = [self.settings.prompt_pattern, ctx.device.kernel_start_message]
        if self.settings.final_message:
            ends.append(self.settings.final_message)
        self._expect(ctx, "|".join(f"(?:{end})" for end in ends), f"{self._prompt_name} or a kernel", command)

    def _send_and_wait(self, ctx: JobContext, command: str, delay: int) -> None:
        attempts = DHCP_ATTEMPTS if command.split()[:1] == ["dhcp"] else 1
        for attempt in range(1, attempts + 1):
            self._type(ctx, command, delay)
            try:
                self._expect(ctx, self.settings.prompt_pattern, self._prompt_name, command)
                return
            except BootloaderErrorMessage as exc:
                if attempt == attempts:
                    raise
                ctx.logger.warning(f"'{command}' failed ({exc}), trying again ({attempt + 1} of {attempts})")
                # the bootloader prints its prompt after the error: wait for it before typing again
                self._expect(ctx, self.settings.prompt_pattern, self._prompt_name, command)

    def _type(self, ctx: JobContext, command: str, delay: int) -> None:
        """Type one command and enter it; where the echo is checked, only once it arrived whole.

        A bootloader polling a serial line can lose a character when the board is slow (iPXE
        under a loaded emulator): the line is erased and typed again rather than run wrong.
        """
        console = ctx.connection
        if not self.settings.check_echo:
            console.sendline(command, delay_ms=delay)
            return
        ctx.logger.input(command)
        wait = min(self.connection_wait(ctx), 5.0 + 2 * len(command) * delay / 1000.0)
        for attempt in range(1, TYPING_ATTEMPTS + 1):
            console.send(command, delay_ms=delay)
            try:
                console.expect([echo_pattern(command)], wait, what=f"the echo of '{command}'", log_partial=False)
                console.send("\n")
                return
            except LAVATimeoutError:
                if attempt == TYPING_ATTEMPTS:
                    raise InfrastructureError(
                        f"{self.settings.method}: characters of '{command}' were lost {TYPING_ATTEMPTS} times "
                        "(a slow serial line? raise the boot character delay)"
                    ) from None
                ctx.logger.warning(f"the {self.settings.method} echo of '{command}' is not whole: typing it again")
                console.sendcontrol("u")  # erase the line

    @property
    def _prompt_name(self) -> str:
        return f"the {self.settings.method} prompt '{self.settings.prompt}'"

    def _expect(self, ctx: JobContext, wanted: str, what: str, command: str) -> None:
        patterns = [wanted, *self.settings.error_messages]
        found = ctx.connection.expect(patterns, self.connection_wait(ctx), what=f"{what} after '{command}'")
        if found > 0:
            raise BootloaderErrorMessage(
                f"{self.settings.method}: matched a bootloader error message after '{command}': '{patterns[found]}'"
            )


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
