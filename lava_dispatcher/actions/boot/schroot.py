"""``boot: method: schroot``: enter a schroot on the host an ssh boot logged in to.

Runs on the namespace's open console (a ``boot: method: ssh`` before it): checks
that the host has ``schroot`` and the named chroot, then types
``schroot -d / -u root -c NAME`` and waits for the block's ``prompts``. A host
without schroot ends the job with an InfrastructureError saying so.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.login import (
    AutoLoginAction,
    ExpectShellSession,
    ExportDeviceEnv,
    check_prompts,
)
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import BootRetry

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

# schroot's own rule for chroot names, without the leading '-' that would make it an option
SCHROOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")
ANSWER = re.compile(r"lava-schroot: (\w+)")


def _host(ctx: JobContext) -> str:
    return ctx.ssh_target.where if ctx.ssh_target is not None else ctx.device.hostname or "the device"


class EnterSchroot(Action):
    name = "schroot-login"
    description = "check for the schroot and enter it"
    summary = "enter the schroot"
    section = "boot"

    def validate(self) -> None:
        name = self.parameters.get("schroot")
        if not isinstance(name, str) or not SCHROOT_NAME.match(name):
            self.errors.append(f"schroot '{name}': a chroot name is letters, digits and _ . : + - "
                               "(not starting with '-')")
        check_prompts(self.parameters, self.errors)

    def _ask(self, ctx: JobContext, question: str) -> str:
        console = ctx.connection
        console.sendline(question)
        console.expect([ANSWER.pattern], self.connection_wait(ctx), what="the host's answer about schroot")
        answer = console.match.group(1)
        console.expect(console.prompts, self.connection_wait(ctx), what="the shell prompt")
        return answer

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        if console is None:
            raise JobError("boot method schroot needs a shell on the host first (a boot: method: ssh before it)")
        name = shlex.quote(str(self.parameters["schroot"]))
        # the answers are built by the shell, so the echoed command line never matches them
        have = self._ask(ctx, "if command -v schroot >/dev/null; then echo lava-schroot: fou''nd; "
                              "else echo lava-schroot: miss''ing; fi")
        if have != "found":
            raise InfrastructureError(f"boot method schroot: the host {_host(ctx)} has no 'schroot' program "
                                      "(install the schroot package there and configure the chroot)")
        exists = self._ask(ctx, f"schroot -i -c {name} >/dev/null 2>&1 && echo lava-schroot: ye''s "
                                "|| echo lava-schroot: n''o")
        if exists != "yes":
            raise JobError(f"boot method schroot: the host {_host(ctx)} has no chroot named {name} (schroot -l lists them)")
        console.sendline(f"schroot -d / -u root -c {name}")


class SchrootRetry(BootRetry):
    name = "schroot-action"
    description = "enter a schroot on the host"
    summary = "schroot boot"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(EnterSchroot(), parameters)
        pipeline.add_action(AutoLoginAction(wait_kernel=False), parameters)
        pipeline.add_action(ExpectShellSession(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)


class SchrootBoot(BootMethod):
    name = "schroot"
    schema = BOOT_METHODS["schroot"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return SchrootRetry(device, retry_count(device, block))
