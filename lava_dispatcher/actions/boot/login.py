"""After power-on: kernel start, kernel problems, login prompt, shell prompt."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.transfer_overlay import OverlayUnpack
from lava_dispatcher.kernel_messages import PANIC_PATTERN, KernelMessageDetector

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

PANIC_DRAIN_SECONDS = 2.0


def prompt_list(parameters: dict[str, Any]) -> list[str]:
    prompts = parameters.get("prompts") or []
    return [prompts] if isinstance(prompts, str) else [str(p) for p in prompts]


def check_prompts(parameters: dict[str, Any], errors: list[str]) -> None:
    prompts = prompt_list(parameters)
    if not prompts:
        errors.append("'prompts' is required to recognise the shell")
    for prompt in prompts:
        try:
            re.compile(prompt)
        except re.error as exc:
            errors.append(f"prompt '{prompt}' is not a valid regular expression: {exc}")
    auto_login = parameters.get("auto_login")
    if auto_login is not None:
        if not isinstance(auto_login, dict) or not auto_login.get("login_prompt") or not auto_login.get("username"):
            errors.append("auto_login needs 'login_prompt' and 'username'")
        elif ("password_prompt" in auto_login) != ("password" in auto_login):
            errors.append("auto_login: 'password_prompt' and 'password' go together")


class LoginAction(Action):
    """From the kernel's start to the shell prompt, watching for kernel problems. Its timeout (the
    block's, else the job's default action timeout, else 30 s) starts when the kernel does."""

    name = "login-action"
    description = "Real login action."
    summary = "Login after boot."
    section = "boot"

    def __init__(self) -> None:
        super().__init__()
        # fed by auto-login-action from the kernel's first line on (it waits for the kernel start)
        self.detector = KernelMessageDetector()

    def run(self, ctx: JobContext) -> None:
        if ctx.connection is None:
            raise JobError("no console connection to log in on")
        try:
            self._login(ctx, self.detector, bool(self.parameters.get("ignore_kernel_messages")))
        finally:
            self.results["kernel_messages"] = [m.as_result() for m in self.detector.found]
            for message in self.detector.found:
                ctx.logger.warning(f"kernel {message.kind}: {message.lines[0].strip()}")

    def _panic(self, ctx: JobContext, detector: KernelMessageDetector) -> None:
        ctx.connection.drain(PANIC_DRAIN_SECONDS, quiet=None)  # let the end of the panic report be captured
        first = detector.panic.lines[0].strip() if detector.panic else "Kernel panic"
        raise JobError(f"kernel panic: {first}")

    def _login(self, ctx: JobContext, detector: KernelMessageDetector, ignore: bool) -> None:
        console = ctx.connection
        prompts = prompt_list(self.parameters)
        auto_login = self.parameters.get("auto_login") or {}
        fixed = [] if ignore else [PANIC_PATTERN]
        # the deploy knows these mean the board cannot mount its root: no use waiting for a prompt
        fixed += ctx.boot_failures
        login = [auto_login["login_prompt"], "Login incorrect"] if auto_login else []
        patterns = fixed + login + prompts
        sent_user = False
        while True:
            try:
                index = console.expect(patterns, self.connection_wait(ctx), what="a login or shell prompt")
            except InfrastructureError:
                if detector.panic:
                    self._panic(ctx, detector)
                raise
            chosen = patterns[index]
            if not ignore and index == 0:
                self._panic(ctx, detector)
            if index < len(fixed):
                matched = console.match.group(0) if hasattr(console.match, "group") else chosen
                raise InfrastructureError(f"the board cannot mount its {ctx.network_root or 'root'}: '{matched.strip()}'")
            if login and chosen == "Login incorrect":
                raise JobError("login failed: 'Login incorrect'")
            if login and index == len(fixed) and chosen == auto_login["login_prompt"]:
                if sent_user:
                    raise JobError("login failed: the login prompt came back")
                sent_user = True
                console.sendline(str(auto_login["username"]))
                if auto_login.get("password_prompt"):
                    console.expect([auto_login["password_prompt"]], self.connection_wait(ctx), what="the password prompt")
                    console.sendline(str(auto_login["password"]), log=False)
                    ctx.logger.input("[password]")
                continue
            break
        console.prompts = prompts
        for command in auto_login.get("login_commands") or []:
            console.sendline(str(command))
            console.expect(prompts, self.connection_wait(ctx), what=f"the prompt after '{command}'")


class AutoLoginAction(Action):
    name = "auto-login-action"
    description = "automatically login after boot using job parameters and checking for messages."
    summary = "Auto-login after boot with support for kernel messages."
    section = "boot"

    def __init__(self, wait_kernel: bool = True, error_messages: list[str] | None = None) -> None:
        super().__init__()
        self.wait_kernel = wait_kernel
        self.error_messages = error_messages

    def populate(self, parameters: dict[str, Any]) -> None:
        self.login = self.new_pipeline().add_action(LoginAction(), parameters)
        self.login.connection_timeout = self.connection_timeout

    def validate(self) -> None:
        super().validate()
        check_prompts(self.parameters, self.errors)

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        if console is None:
            raise JobError("no console connection to log in on")
        # the wait for the kernel (firmware and bootloader time) is this action's, as in the reference:
        # login-action's own timeout starts when the kernel does
        self.login.detector = KernelMessageDetector()  # a retried boot starts afresh
        feed = self.login.detector.feed
        if not self.parameters.get("ignore_kernel_messages"):
            console.add_observer(feed)  # before the wait: lines read with the kernel's first one count
        try:
            if self.wait_kernel:
                self._kernel_start(ctx)
            super().run(ctx)
        finally:
            console.remove_observer(feed)

    def _kernel_start(self, ctx: JobContext) -> None:
        boot_params = self.parameters.get("parameters") or {}
        message = boot_params.get("kernel-start-message", ctx.device.kernel_start_message)
        if not message:
            return
        patterns = [message, *(self.error_messages or [])]
        index = ctx.connection.expect(patterns, self.connection_wait(ctx), what="the kernel to start")
        if index > 0:
            raise InfrastructureError(f"matched a bootloader error message: '{patterns[index]}'")


class ExpectShellSession(Action):
    name = "expect-shell-connection"
    description = "Wait for a shell"
    summary = "Expect a shell prompt"
    section = "boot"

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        console.sendline("")
        console.expect(console.prompts, self.connection_wait(ctx), what="the shell prompt")


class ExportDeviceEnv(Action):
    name = "export-device-env"
    description = "Exports environment variables to the device"
    summary = "Exports environment variables action"
    section = "boot"

    def run(self, ctx: JobContext) -> None:
        env = ctx.env_dut.get("overrides") if isinstance(ctx.env_dut.get("overrides"), dict) else ctx.env_dut
        console = ctx.connection
        for key, value in (env or {}).items():
            console.sendline(f"export {key}='{value}'")
            console.expect(console.prompts, self.connection_wait(ctx), what="the shell prompt")


def add_shell_login(
    pipeline: Pipeline, parameters: dict[str, Any], wait_kernel: bool = True, error_messages: list[str] | None = None
) -> None:
    """The end of every boot on a console: see the kernel start, log in, find the shell prompt,
    unpack the overlay when the board fetches it itself (``transfer_overlay``), export the device's
    environment.

    A block without ``prompts`` ends when the board is started (the reference's rule: it waits for
    no shell); a test shell after it looks for the device's default prompt and those of an earlier
    boot (``JobPlan.shell_prompts``).
    """
    if not prompt_list(parameters):
        return
    pipeline.add_action(AutoLoginAction(wait_kernel=wait_kernel, error_messages=error_messages), parameters)
    pipeline.add_action(ExpectShellSession(), parameters)
    if "transfer_overlay" in parameters:
        pipeline.add_action(OverlayUnpack(), parameters)
    pipeline.add_action(ExportDeviceEnv(), parameters)
