"""``transfer_overlay``: the board fetches the test overlay over the network once it has a shell.

For boards whose image the dispatcher cannot change. The dispatcher serves the overlay as a
tarball over HTTP for the time of this action (a fresh port, a random path) and types
``<download_command> <url>`` then ``<unpack_command> <file>`` at the board's shell, e.g.
``cd /tmp ; wget`` and ``tar -C / -xzf``. ``transfer_method: zmodem`` is not supported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_common.exceptions import JobError
from lava_dispatcher.action import Action

if TYPE_CHECKING:
    from lava_dispatcher.console import Console
    from lava_dispatcher.context import JobContext

TARBALL = "overlay.tar.gz"


def run_overlay_commands(ctx: JobContext, console: Console, commands: list[str], wait: float) -> None:
    """Type each command at the shell, then check that the overlay's runner is on the board."""
    directory = ctx.overlay.results_dir
    for command in commands:
        console.sendline(command)
        console.expect(console.prompts, wait, what="the shell prompt")
    # the echoed command holds "OVERLAY_$(", never the answer: only the board's reply matches
    console.sendline(f"echo LAVA_OVERLAY_$(test -x {directory}/bin/lava-test-runner && echo READY || echo MISSING)")
    index = console.expect(["LAVA_OVERLAY_READY", "LAVA_OVERLAY_MISSING"], wait, what="the overlay check")
    console.expect(console.prompts, wait, what="the shell prompt")
    if index == 1:
        raise JobError(f"the test overlay is not at {directory} on the board after: {'; '.join(commands)}")
    ctx.overlay.prepared_on = console


class OverlayUnpack(Action):
    name = "overlay-unpack"
    description = "transfer and unpack overlay to persistent rootfs after login"
    summary = "transfer and unpack overlay"
    section = "boot"

    def validate(self) -> None:
        transfer = self.parameters.get("transfer_overlay") or {}
        if transfer.get("transfer_method", "http") != "http":
            self.errors.append(f"transfer_overlay.transfer_method '{transfer['transfer_method']}' is not supported "
                               "(only the download_command over HTTP)")
        for key in ("download_command", "unpack_command"):
            if not isinstance(transfer.get(key), str) or not transfer[key].strip():
                self.errors.append(f"transfer_overlay.{key} is required")

    def run(self, ctx: JobContext) -> None:
        # deferred: a server thread and a tarball only for jobs that transfer their overlay
        from lava_dispatcher.actions.boot.bootloader import dispatcher_ip
        from lava_dispatcher.file_server import serve_file
        from lava_dispatcher.test_shell.ramdisk import pack_overlay_tarball

        if ctx.overlay is None:  # the deploy makes one only for a job that runs a test shell
            ctx.logger.info("transfer_overlay: no test overlay to transfer (the job runs no test shell)")
            return
        if ctx.connection is None:
            raise JobError("transfer_overlay needs a booted board")
        folder = ctx.scratch() / "transfer"
        folder.mkdir(parents=True, exist_ok=True)
        pack_overlay_tarball(ctx.overlay.root, folder / TARBALL)
        transfer = self.parameters["transfer_overlay"]
        with serve_file(folder / TARBALL, dispatcher_ip(ctx), ctx.logger) as url:
            ctx.logger.info(f"serving the overlay at {url}")
            commands = [f"{transfer['download_command']} {url} && {transfer['unpack_command']} {TARBALL}"]
            run_overlay_commands(ctx, ctx.connection, commands, self.connection_wait(ctx))
