"""``boot: method: qemu-iso`` (``media: img``): run the installer an iso-installer deploy prepared,
then boot the system it installed.

1. ``execute-installer-command``: QEMU with the device's ``qemu`` options, the empty disk
   (``-drive format=raw,file=<disk>``), the ISO (``images.iso.image_arg``), ``-no-reboot``, and
   the kernel and initrd pulled out of the ISO with debian-installer's command line, whose
   ``preseed/url=`` names the preseed that lava-run serves over HTTP while the installer runs
   (``dispatcher_ip``, a fresh port, a random path). It waits, within the action's timeout,
   until the installer powers off (or reboots) and QEMU exits. An error dialog of the
   installer's text frontend or a kernel panic ends the job with what the installer printed.
2. ``reboot-into-installed``: QEMU boots the installed disk (``-boot c``), with the test overlay
   disk when the deploy made one.
3. Login, as every console boot (``add_shell_login``).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import ConnectionClosedError, JobError, LAVATimeoutError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.login import add_shell_login
from lava_dispatcher.actions.boot.qemu import CallQemuAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.kernel_messages import PANIC_PATTERN
from lava_dispatcher.methods import BootMethod, qemu_method_accepts, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    from lava_dispatcher.console import Console
    from lava_dispatcher.context import IsoInstallation, JobContext

# debian-installer's command line, as the reference gives it (its debian_installer deployment data)
INSTALLER_BASE = "auto=true install noshell debug verbose BOOT_DEBUG=1 DEBIAN_FRONTEND=text"
INSTALLER_LOCALE = "debian-installer/locale=en_US"
INSTALLER_KEYMAPS = "console-keymaps-at/keymap=us keyboard-configuration/xkb-keymap=us"
INSTALLER_NETCFG = "netcfg/choose_interface=auto netcfg/get_hostname=debian netcfg/get_domain="
DEFAULT_CONSOLE = "ttyS0,115200"
DEFAULT_BOOT_ORDER = "c"
# the installer is done: it powered off (or rebooted, which -no-reboot also turns into QEMU's exit)
FINISHED = ["reboot: Power down", "Requesting system poweroff", "reboot: Restarting system", "Requesting system reboot"]
# an installation step failed, or the text frontend shows an error dialog and waits for a key
FAILED = ["ERROR: Installation step failed", "Press enter to continue"]
AFTER_FAILURE_SECONDS = 2.0  # what the installer prints after the error line says why
EXIT_SECONDS = 60.0  # QEMU's own exit after the power-off message
# our own wait ends this much before the action's deadline, so that its message (what the installer
# last said) is the job's error, not the bare deadline's, even when a loaded host is slow to unwind
DEADLINE_MARGIN = 5.0
TAIL_LINES = 6


def installer_command_line(console: str, preseed_url: str) -> str:
    """debian-installer's kernel parameters; what follows ``---`` is for the installed system."""
    return (f"{INSTALLER_BASE} console=tty0 console=tty1 {INSTALLER_LOCALE} console={console} {INSTALLER_KEYMAPS} "
            f"{INSTALLER_NETCFG} preseed/url={preseed_url} --- console={console}")


def _boot_options(device: DeviceConfig) -> dict[str, Any]:
    params = (device.boot_methods().get("qemu") or {}).get("parameters") or {}
    options = params.get("boot_options")
    return options if isinstance(options, dict) else {}


def _installation(ctx: JobContext) -> IsoInstallation:
    found = ctx.installation
    if found is None or found.kernel is None or found.initrd is None or "preseed" not in ctx.downloaded:
        raise JobError("boot method qemu-iso needs a deploy to iso-installer before it, in the same namespace")
    return found


class IsoCommandLine(CallQemuAction):
    name = "execute-installer-command"
    description = "add dynamic data values to command line and execute"
    summary = "include downloaded locations and call qemu"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__(device)
        self.preseed_url = ""

    def image_args(self, ctx: JobContext) -> list[str]:
        # the empty disk first: the installer finds it as the first disk; then the ISO's image_arg
        return ["-drive", f"format=raw,file={_installation(ctx).disk}", *ctx.boot_image_args]

    def extra_args(self, ctx: JobContext) -> list[str]:
        installation = _installation(ctx)
        console = installation.console or str(_boot_options(ctx.device).get("console") or DEFAULT_CONSOLE)
        order = str(_boot_options(ctx.device).get("boot_order") or DEFAULT_BOOT_ORDER)
        return ["-boot", order, "-no-reboot", "-kernel", str(installation.kernel), "-initrd", str(installation.initrd),
                "-append", installer_command_line(console, self.preseed_url)]

    def run(self, ctx: JobContext) -> None:
        # deferred: a server thread only while an installer runs, not for `lava-run --validate`
        from lava_dispatcher.actions.boot.bootloader import dispatcher_ip
        from lava_dispatcher.file_server import serve_file

        _installation(ctx)
        with serve_file(ctx.downloaded["preseed"], dispatcher_ip(ctx), ctx.logger) as url:
            ctx.logger.info(f"serving the preseed at {url}")
            self.preseed_url = url
            super().run(ctx)
            tail: deque[str] = deque(maxlen=TAIL_LINES)

            def keep(line: str) -> None:
                if line.strip():
                    tail.append(line.strip())

            ctx.connection.add_observer(keep)
            try:
                self._wait_for_the_installer(ctx, ctx.connection, tail)
            finally:
                ctx.connection.remove_observer(keep)
        self._wait_for_qemu_exit(ctx, ctx.connection)
        ctx.connection = None
        self.results["installer"] = "finished"

    def _wait_for_the_installer(self, ctx: JobContext, console: Console, tail: deque[str]) -> None:
        patterns = FINISHED + FAILED + [PANIC_PATTERN]
        try:
            # an installer may say nothing for minutes: the action's timeout bounds the wait, not the connection's
            wait = max(0.1, ctx.deadlines.remaining() - DEADLINE_MARGIN)
            index = console.expect(patterns, wait, what="the installer to finish")
        except ConnectionClosedError as exc:
            raise JobError(f"QEMU exited before the installer finished; its last output: {' | '.join(tail)}") from exc
        except LAVATimeoutError as exc:
            if getattr(exc, "job_wall", False):
                raise
            raise LAVATimeoutError(f"the installer did not finish within {int(self.timeout.duration)} seconds "
                                   f"(no {' or '.join(repr(p) for p in FINISHED[:2])}); "
                                   f"its last output: {' | '.join(tail)}") from exc
        if index >= len(FINISHED):
            console.drain(AFTER_FAILURE_SECONDS)
            what = "the installer's kernel panicked" if patterns[index] == PANIC_PATTERN else "the installer failed"
            raise JobError(f"{what}: {' | '.join(tail)}")
        ctx.logger.info(f"the installer finished: '{patterns[index]}'")

    @staticmethod
    def _wait_for_qemu_exit(ctx: JobContext, console: Console) -> None:
        """The installed disk is only complete once QEMU has closed it."""
        try:
            console.expect([], min(EXIT_SECONDS, ctx.deadlines.remaining()), what="QEMU to exit", eof_ok=True)
        except LAVATimeoutError as exc:
            if getattr(exc, "job_wall", False):
                raise
            ctx.logger.warning("QEMU did not exit after the installer finished; stopping it")
        console.stop_process()


class IsoRebootAction(CallQemuAction):
    name = "reboot-into-installed"
    description = "reboot and login to the new system"
    summary = "reboot into installed image"

    def image_args(self, ctx: JobContext) -> list[str]:
        overlay_disk = ctx.overlay.boot_args if ctx.overlay is not None else []
        return ["-drive", f"format=raw,file={_installation(ctx).disk}", *overlay_disk]

    def extra_args(self, ctx: JobContext) -> list[str]:
        return ["-boot", str(_boot_options(ctx.device).get("boot_order") or DEFAULT_BOOT_ORDER)]


class BootIsoInstallerAction(ConsoleBootRetry):
    name = "boot-installer-iso"
    description = "boot installer with preseed"
    summary = "boot installer iso image"

    def __init__(self, device: DeviceConfig, retries: int, deployed: bool) -> None:
        super().__init__(device, retries)
        self.deployed = deployed

    def validate(self) -> None:
        super().validate()
        if not self.deployed:
            self.errors.append("boot method qemu-iso needs a deploy to iso-installer before it, in the same namespace")

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(IsoCommandLine(self.device), parameters)
        pipeline.add_action(IsoRebootAction(self.device), parameters)
        add_shell_login(pipeline, parameters)


class QemuIsoBoot(BootMethod):
    """On QEMU devices, whose ``qemu`` boot method gives the command line."""

    name = "qemu-iso"
    schema = BOOT_METHODS["qemu-iso"]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        return qemu_method_accepts(device, block, "method", cls.name)

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        earlier = [b for b in plan.section("deploy") if b.namespace == block.namespace and b.position < block.position]
        deployed = bool(earlier) and earlier[-1].parameters.get("to") == "iso-installer"
        return BootIsoInstallerAction(device, retry_count(device, block), deployed)
