"""``boot: method: ssh``: log in to a running host over ssh; that session is the board's console.

The steps: check that the host takes our key (a one-shot ``ssh ... true``,
whose error names the host), copy the overlay tarball with scp, open the
interactive session (``ssh -tt``), wait for one of the block's ``prompts``,
unpack the overlay at ``/``. The host is the device dictionary's ``ssh_host``,
or, for a MultiNode guest (``parameters: {hostID, host_key}``), the value of
``host_key`` in the message ``hostID`` another role sent with lava-send.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import ConfigurationError, InfrastructureError, JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.login import AutoLoginAction, ExpectShellSession, ExportDeviceEnv
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.protocols.multinode_job import MultinodeCall
from lava_dispatcher.retry import BootRetry
from lava_dispatcher.ssh_target import SshTarget, check_identity, refuse_dictionary_keys, ssh_target

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

REMOTE_DIR = "/tmp"
UNPACKED = re.compile(r"lava-overlay-unpacked rc=(\d+)")
# the prompt a secondary connection's implied login gives its ssh session (no boot block names one)
GUEST_PROMPT = "lava-guest: # "


def _target(ctx: JobContext, parameters: dict[str, Any], host_variable: str | None = None) -> SshTarget:
    """The device's ssh settings, with the host a MultiNode message names when the block asks for one
    (``parameters.hostID``), or that the deploy's own wait filled in (``host_variable``)."""
    boot_params = parameters.get("parameters") or {}
    host_id = boot_params.get("hostID")
    if host_id:
        host = _host_from_message(ctx, str(host_id), str(boot_params.get("host_key") or ""))
    elif host_variable:
        host = ctx.multinode.received.get(host_variable, "") if ctx.multinode is not None else ""
        if not host or host.startswith("-"):
            raise JobError(f"the host's address: the deploy's MultiNode wait gave no usable ${host_variable} "
                           f"(got {host!r})")
    else:
        return ssh_target(ctx.device)
    return ssh_target(ctx.device, require_host=False).with_host(host)


def _host_from_message(ctx: JobContext, host_id: str, host_key: str) -> str:
    if ctx.multinode is None:
        raise JobError(f"parameters.hostID '{host_id}': the host comes from a MultiNode message, "
                       "but this is not a MultiNode job")
    reply = ctx.multinode.serve(MultinodeCall("WAIT", host_id, ()))
    match = re.search(rf"\s\S+:{re.escape(host_key)}=(\S+?)>?(?=\s|$)", reply)
    if match is None or match.group(1).startswith("-"):
        raise JobError(f"MultiNode message '{host_id}' has no usable '{host_key}' (got {reply})")
    return match.group(1)


class SshCheck(Action):
    name = "ssh-check"
    description = "check that the host accepts the ssh key"
    summary = "check the ssh login"
    section = "boot"

    def __init__(self, device: DeviceConfig, host_variable: str | None = None) -> None:
        super().__init__()
        self.device = device
        self.host_variable = host_variable

    def validate(self) -> None:
        refuse_dictionary_keys(self.parameters, self.errors)
        from_message = (self.parameters.get("parameters") or {}).get("hostID") or self.host_variable
        try:
            ssh_target(self.device, require_host=not from_message)
        except ConfigurationError as exc:  # reported with the other problems, not raised, at validation
            self.errors.append(str(exc))
        connection = self.parameters.get("connection")
        if connection is not None and connection != "ssh":
            self.errors.append(f"connection '{connection}': boot method ssh only opens the 'ssh' connection")

    def run(self, ctx: JobContext) -> None:
        import subprocess  # deferred: only a run needs it, not `lava-run --validate`

        target = _target(ctx, self.parameters, self.host_variable)
        check_identity(target)
        ctx.ssh_target = target
        wait = self.connection_wait(ctx)
        argv = target.probe_argv(int(wait))
        ctx.logger.debug(f"ssh check: {shlex.join(argv)}")
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=wait, stdin=subprocess.DEVNULL,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise InfrastructureError(f"ssh to {target.where}: no answer within {int(wait)} s") from None
        except OSError as exc:
            raise InfrastructureError(f"cannot run ssh: {exc}") from exc
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or [f"ssh exited with {proc.returncode}"])[-1]
            raise InfrastructureError(f"ssh to {target.where} failed: {why}")


class ScpOverlay(Action):
    name = "scp-overlay"
    description = "copy the overlay to the host with scp"
    summary = "scp the overlay"
    section = "boot"

    def run(self, ctx: JobContext) -> None:
        overlay = ctx.overlay
        if overlay is None or overlay.tarball is None:
            ctx.logger.debug("no overlay to copy")
            return
        target = ctx.ssh_target
        wait = self.connection_wait(ctx)
        remote = f"{REMOTE_DIR}/{overlay.tarball.name}"
        ctx.logger.info(f"copying the overlay to {target.where}:{remote}")
        failure = _copy(target.scp_argv(overlay.tarball, remote, int(wait)), None, wait)
        if failure:
            # small hosts (dropbear, busybox) have neither an sftp server nor scp: stream it through ssh
            ctx.logger.info(f"scp failed ({failure}); copying through 'ssh ... cat' instead")
            argv = target.ssh_argv(f"cat > {shlex.quote(remote)}")
            with overlay.tarball.open("rb") as stream:
                failure = _copy(argv, stream, wait)
        if failure:
            raise InfrastructureError(f"copying the overlay to {target.where} failed: {failure}")
        ctx.remote_overlay = remote


def _copy(argv: list[str], stdin: Any, wait: float) -> str:
    """Run one copy command; '' when it worked, else why not."""
    import subprocess  # deferred: only a run needs it, not `lava-run --validate`

    try:
        proc = subprocess.run(argv, capture_output=True, timeout=max(wait, 1.0), check=False,
                              stdin=stdin if stdin is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"not done within {int(wait)} s"
    if proc.returncode == 0:
        return ""
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"{argv[0]} exited with {proc.returncode}"


class ConnectSsh(Action):
    name = "ssh-connection"
    description = "connect to the host over ssh"
    summary = "make an ssh connection to the host"
    section = "boot"

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher.console import Console  # deferred: pexpect is a heavy import

        if ctx.connection is not None and ctx.connection.spawn.isalive():
            ctx.logger.debug("reusing the existing ssh connection")
            return
        target = ctx.ssh_target
        argv = target.ssh_argv(tty=True)
        ctx.logger.info(f"[{self.namespace}] connecting to {target.where}: {shlex.join(argv)}")
        console = Console(argv, ctx.logger, ctx.processes, "ssh", ctx.device.spawn_maxread, ("ssh",))
        console.character_delay_ms = ctx.device.character_delays.get("boot", 0)
        console.prompts = [ctx.device.default_shell_prompt]
        ctx.connection = console


class UnpackOverlay(Action):
    name = "ssh-unpack-overlay"
    description = "unpack the overlay at / on the host"
    summary = "unpack the overlay"
    section = "boot"

    def run(self, ctx: JobContext) -> None:
        remote = ctx.remote_overlay
        if not remote:
            return
        console = ctx.connection
        quoted = shlex.quote(remote)
        console.sendline(f"tar -C / -xzf {quoted}; echo lava-overlay-unpacked rc=$?; rm -f {quoted}")
        console.expect([UNPACKED.pattern], self.connection_wait(ctx), what="the overlay to unpack")
        rc = int(console.match.group(1))
        console.expect(console.prompts, self.connection_wait(ctx), what="the shell prompt")
        if rc != 0:
            raise JobError(f"unpacking the overlay on {ctx.ssh_target.where} failed (tar exited with {rc})")
        ctx.remote_overlay = ""


class SshLogin(BootRetry):
    name = "login-ssh"
    description = "connect over ssh and ensure a shell is found"
    summary = "login over ssh"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(SshCheck(self.device), parameters)
        pipeline.add_action(ScpOverlay(), parameters)
        pipeline.add_action(ConnectSsh(), parameters)
        pipeline.add_action(AutoLoginAction(wait_kernel=False), parameters)
        pipeline.add_action(UnpackOverlay(), parameters)
        pipeline.add_action(ExpectShellSession(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)


class SetGuestPrompt(Action):
    name = "ssh-guest-prompt"
    description = "give the ssh session a prompt of ours"
    summary = "set the shell prompt"
    section = "boot"

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        # typed in two quoted halves: the echo of the command never matches the prompt it sets
        console.sendline(f"export PS1='{GUEST_PROMPT[:5]}''{GUEST_PROMPT[5:]}'")
        console.prompts = [GUEST_PROMPT]
        console.expect(console.prompts, self.connection_wait(ctx), what="the prompt of the ssh session")


class SshGuestLogin(BootRetry):
    """A secondary connection's deploy to ssh with no boot after it: log in to the host role's board
    (its address from the deploy's MultiNode wait), copy and unpack the overlay, so that the tests run
    in that ssh session."""

    name = "login-ssh-guest"
    description = "log in over ssh to the host role's board"
    summary = "ssh login to the host role's board"

    def __init__(self, device: DeviceConfig, host_variable: str | None) -> None:
        super().__init__(device, 1)
        self.host_variable = host_variable

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        pipeline.add_action(SshCheck(self.device, self.host_variable), parameters)
        pipeline.add_action(ScpOverlay(), parameters)
        pipeline.add_action(ConnectSsh(), parameters)
        pipeline.add_action(SetGuestPrompt(), parameters)
        pipeline.add_action(UnpackOverlay(), parameters)
        pipeline.add_action(ExportDeviceEnv(), parameters)


class SshBoot(BootMethod):
    name = "ssh"
    schema = BOOT_METHODS["ssh"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return SshLogin(device, retry_count(device, block))
