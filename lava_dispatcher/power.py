"""Power control: the device's power commands, run on the worker host.

Their output is logged; a failing command is an Infrastructure error, since
the lab (not the job) is at fault.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError
from lava_dispatcher.ipmi import bmc_address, hide_password

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def run_commands(ctx: JobContext, commands: list[str], what: str, timeout: float | None = None) -> None:
    for command in commands:
        run_command(ctx, command, what, timeout)


def run_command(ctx: JobContext, command: str, what: str, timeout: float | None = None) -> str:
    import subprocess  # deferred: a heavy import that `lava-run --validate` does not need

    shown = hide_password(command)
    ctx.logger.debug(f"{what}: running '{shown}'")
    wait = min(timeout or 300.0, max(ctx.deadlines.remaining(), 0.1))
    proc = subprocess.Popen(
        command,
        shell=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # its own group, so a cancel can kill whatever it spawned
    )
    ctx.processes.add(proc.pid)
    try:
        output, _ = proc.communicate(timeout=wait)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise InfrastructureError(f"{what}: '{shown}' did not finish within {int(wait)} seconds") from exc
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        ctx.processes.discard(proc.pid)
    for line in output.splitlines():
        ctx.logger.debug(line)
    if proc.returncode != 0:
        bmc = bmc_address(command)
        if bmc is not None:
            last = output.strip().splitlines()[-1:] or ["no output"]
            raise InfrastructureError(f"{what}: the BMC {bmc} refused or did not answer: '{shown}' failed "
                                      f"with exit code {proc.returncode} ({hide_password(last[0])})")
        raise InfrastructureError(f"{what}: '{shown}' failed with exit code {proc.returncode}")
    return output


def _kill_group(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


class CommandPowerDriver:
    """The PowerDriver protocol (on/off/cycle) over the device's shell commands."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.commands = ctx.device.power

    @property
    def can_cycle(self) -> bool:
        return bool(self.commands.hard_reset or (self.commands.power_on and self.commands.power_off))

    def on(self) -> None:
        run_commands(self.ctx, self.commands.pre_power, "pre-power")
        run_commands(self.ctx, self.commands.power_on, "power-on")

    def off(self) -> None:
        run_commands(self.ctx, self.commands.power_off, "power-off")

    def cycle(self) -> None:
        if self.commands.hard_reset:
            run_commands(self.ctx, self.commands.hard_reset, "hard-reset")
        else:
            self.off()
            self.on()
