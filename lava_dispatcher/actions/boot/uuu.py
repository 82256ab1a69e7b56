"""``boot: method: uuu``: flash an i.MX board over USB OTG with NXP's ``uuu`` (and drive its ``bcu``).

The images come from an earlier ``deploy: to: uuu`` (the job's downloads folder). The board is
powered off; with the dictionary's ``corrupt_boot_media_command`` it is first booted to U-Boot,
which runs those commands so that the ROM falls back to USB serial download; then it is powered
on and each command of the block runs on the worker, in order:

- ``uuu: <args>`` -> ``uuu -m <usb_otg_path>... <args>``, ``{label}`` replaced by that image;
- ``bcu: <args>`` -> ``bcu <args> -id=<bcu_board_id>``.

Job text never reaches a shell: the arguments are split into words, and a path the job names
is an image ``{label}`` or a name inside its downloads folder (where the tools run). With
``skip_uuu_if_bootloader_valid`` the board is first reset: a U-Boot that stops at its prompt
needs no flashing.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, LAVATimeoutError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import BootloaderSettings
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.deploy.download import DOWNLOADS_DIR
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.power import CommandPowerDriver

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

TOOLS = ("uuu", "bcu")
_LABEL = re.compile(r"\{([A-Za-z0-9_.-]+)\}")
TOOL_TIMEOUT = 600.0


def uuu_options(device: DeviceConfig) -> dict[str, Any]:
    return (device.deploy_methods().get("uuu") or {}).get("options") or {}


def parse_commands(commands: Any, labels: set[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """([(tool, words)], errors) of the block's ``commands``; ``labels`` are the deployed images."""
    if not isinstance(commands, list) or not commands:
        return [], ["commands: a list of {uuu: <args>} or {bcu: <args>}"]
    parsed, errors = [], []
    for index, entry in enumerate(commands):
        where = f"commands[{index}]"
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in TOOLS:
            errors.append(f"{where}: one of uuu or bcu, with its arguments")
            continue
        (tool, text), = entry.items()
        try:
            words = shlex.split(str(text))
        except ValueError as exc:
            errors.append(f"{where}.{tool}: cannot split '{text}' into arguments: {exc}")
            continue
        for word in words:
            for label in _LABEL.findall(word):
                if label not in labels:
                    errors.append(f"{where}.{tool}: '{{{label}}}' is no image of the uuu deploy "
                                  f"({', '.join(sorted(labels)) or 'none'})")
            bare = _LABEL.sub("image", word)
            if bare.startswith("/") or ".." in bare.split("/"):
                errors.append(f"{where}.{tool}: '{word}' names a worker path; use an image's {{label}}")
        parsed.append((tool, words))
    return parsed, errors


def deployed_labels(plan: JobPlan, block: PlanBlock) -> set[str]:
    """The image labels of the ``deploy: to: uuu`` blocks before this one in its namespace."""
    return {str(label) for deploy in plan.section("deploy")
            if deploy.position < block.position and deploy.namespace == block.namespace
            and deploy.parameters.get("to") == "uuu"
            for label in (deploy.parameters.get("images") or {})}


def _admin_value(ctx: JobContext, options: dict[str, Any], key: str) -> list[str]:
    """A dictionary value, or the output words of its ``<key>_command`` (an argv list the admin wrote)."""
    import subprocess  # deferred: a heavy import that `lava-run --validate` does not need

    if options.get(key):
        value = options[key]
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    command = options.get(f"{key}_command")
    argv = [str(word) for word in command] if isinstance(command, list) else shlex.split(str(command))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise InfrastructureError(f"{key}_command {argv}: exit code {done.returncode} ({done.stderr.strip()})")
    return done.stdout.split()


class UuuFlash(Action):
    name = "uuu-flash"
    description = "flash the board over USB OTG with uuu and bcu"
    summary = "uuu flash"
    section = "boot"

    def __init__(self, device: DeviceConfig, labels: set[str]) -> None:
        super().__init__()
        self.device = device
        self.labels = labels

    def validate(self) -> None:
        commands, errors = parse_commands(self.parameters.get("commands"), self.labels)
        self.errors.extend(errors)
        options = uuu_options(self.device)
        tools = {tool for tool, _ in commands}
        if "uuu" in tools and not (options.get("usb_otg_path") or options.get("usb_otg_path_command")):
            self.errors.append("the device gives no usb_otg_path (nor usb_otg_path_command) for uuu")
        if "bcu" in tools and not (options.get("bcu_board_id") or options.get("bcu_board_id_command")):
            self.errors.append("the device gives no bcu_board_id (nor bcu_board_id_command) for bcu")

    def run(self, ctx: JobContext) -> None:
        options = uuu_options(ctx.device)
        settings = BootloaderSettings(ctx.device, "u-boot", self.parameters)
        driver = CommandPowerDriver(ctx)
        if self.parameters.get("skip_uuu_if_bootloader_valid") and ctx.connection is not None:
            if driver.can_cycle:
                driver.cycle()
            else:
                driver.on()
            if self._bootloader_answers(ctx, settings):
                ctx.logger.info("U-Boot stopped at its prompt: the boot media is valid, uuu is skipped")
                return
        driver.off()
        corrupt = [str(c) for c in options.get("corrupt_boot_media_command") or []]
        if corrupt and ctx.connection is not None:
            driver.on()
            if not self._bootloader_answers(ctx, settings):
                raise InfrastructureError("U-Boot never stopped at its prompt: cannot erase the boot media")
            for command in corrupt:
                ctx.connection.sendline(command)
                ctx.connection.expect([settings.prompt_pattern], self.connection_wait(ctx), what=f"'{command}'")
            driver.off()
        driver.on()  # the ROM finds no bootloader and waits for uuu on USB
        commands, _ = parse_commands(self.parameters.get("commands"), self.labels)
        for tool, words in commands:
            self._run_tool(ctx, options, tool, words)

    def _bootloader_answers(self, ctx: JobContext, settings: BootloaderSettings) -> bool:
        console = ctx.connection
        try:
            console.expect([settings.interrupt_prompt], self.connection_wait(ctx), what="the U-Boot interrupt prompt")
            console.send(settings.interrupt_char)
            console.expect([settings.prompt_pattern], self.connection_wait(ctx), what="the U-Boot prompt")
        except LAVATimeoutError:
            return False
        return True

    def _run_tool(self, ctx: JobContext, options: dict[str, Any], tool: str, words: list[str]) -> None:
        import subprocess  # deferred: a heavy import that `lava-run --validate` does not need

        folder: Path = ctx.scratch() / DOWNLOADS_DIR
        args = [_LABEL.sub(lambda m: str(ctx.downloaded[m.group(1)]), word) for word in words]
        if tool == "uuu":
            argv = ["uuu", *(w for path in _admin_value(ctx, options, "usb_otg_path") for w in ("-m", path)), *args]
        else:
            argv = ["bcu", *args, f"-id={_admin_value(ctx, options, 'bcu_board_id')[0]}"]
        ctx.logger.info(f"running {shlex.join(argv)}")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, errors="replace",
                                  timeout=min(TOOL_TIMEOUT, max(ctx.deadlines.remaining(), 1.0)))
        except FileNotFoundError as exc:
            raise InfrastructureError(f"{tool} is not installed on this worker") from exc
        except subprocess.TimeoutExpired as exc:
            raise InfrastructureError(f"{shlex.join(argv)} did not finish in time") from exc
        for line in (done.stdout + done.stderr).splitlines():
            ctx.logger.debug(line)
        if done.returncode != 0:
            raise InfrastructureError(f"{shlex.join(argv)} failed with exit code {done.returncode}")


class UuuBootAction(Action):
    name = "uuu-boot"
    description = "flash the board with uuu"
    summary = "uuu boot"
    section = "boot"

    def __init__(self, device: DeviceConfig, labels: set[str]) -> None:
        super().__init__()
        self.device = device
        self.labels = labels

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline: Pipeline = self.new_pipeline()
        if self.device.primary_connection is not None:
            pipeline.add_action(ConnectDevice(self.device), parameters)
        pipeline.add_action(UuuFlash(self.device, self.labels), parameters)


class UuuBoot(BootMethod):
    name = "uuu"
    schema = BOOT_METHODS["uuu"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return UuuBootAction(device, deployed_labels(plan, block))
