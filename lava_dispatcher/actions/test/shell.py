"""``test: definitions:``: start the lava-test-shell runner on the board and follow its signals.

Console lines go to the test-shell signal parser as they are read; its events
become ``results`` records (with ``starttc``/``endtc`` markers), and a
``TESTRAISE`` ends the test with a TestError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError, LAVATimeoutError, TestError
from lava_common.schemas.test import TEST_KINDS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.transfer_overlay import run_overlay_commands
from lava_dispatcher.actions.test.overlay_bridge import signal_parser
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import TestMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.protocols.multinode_job import SIGNAL_PATTERN, parse_signal
from lava_dispatcher.retry import RetryAction

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

RUNNER_EXIT = "<LAVA_TEST_RUNNER EXIT>"
INSTALL_FAIL = "<LAVA_TEST_RUNNER INSTALL_FAIL>"
TEST_RAISE = "<LAVA_SIGNAL_TESTRAISE"
# what a shell says when the overlay is not where the job put it (busybox/dash, bash)
RUNNER_MISSING = r"lava-test-runner: (?:not found|No such file or directory|Permission denied)"


class _EventSink:
    """Feeds console lines to the signal parser and turns its events into log records."""

    def __init__(self, ctx: JobContext, parser: Any) -> None:
        self.ctx = ctx
        self.parser = parser
        self.raised: str | None = None
        self.install_failed = False
        self.exited = False

    def __call__(self, line: str) -> None:
        # the console logged this line just before: its index is the last one written
        for event in self.parser.feed_line(line, line_index=self.ctx.logger.line_count - 1):
            self.handle(event)

    def handle(self, event: Any) -> None:
        # deferred: compiling the signal grammar is too heavy for `lava-run --validate`
        from lava_dispatcher.test_shell import signals

        logger = self.ctx.logger
        if isinstance(event, signals.Result):
            logger.results(dict(event.record))
        elif isinstance(event, signals.RunStarted):
            logger.info(f"Starting test run {event.definition} ({event.uuid})")
        elif isinstance(event, signals.RunEnded):
            logger.info(f"Ending test run {event.definition} ({event.uuid})")
        elif isinstance(event, signals.TestSetStarted):
            logger.info(f"Starting test set {event.name}")
        elif isinstance(event, signals.TestSetStopped):
            logger.info(f"Closing test set {event.name}")
        elif isinstance(event, signals.Raised | signals.SignalError):
            self.raised = self.raised or event.message
        elif isinstance(event, signals.TestEvent):
            logger.debug(f"test event: {event.message}")  # "event" is not a level lava-run may emit
        elif isinstance(event, signals.SignalWarning):
            logger.warning(event.message)
        elif isinstance(event, signals.InstallFailed):
            self.install_failed = True
        elif isinstance(event, signals.RunnerExit):
            self.exited = True


class TestShellAction(Action):
    __test__ = False
    name = "lava-test-shell"
    description = "Executing lava-test-runner"
    summary = "Lava Test Shell"
    section = "test"

    def __init__(self, stage: int, prompts: list[str]) -> None:
        super().__init__()
        self.stage = stage  # this block's rank among the job's test-shell blocks: its overlay directory
        self.prompts = prompts  # the shell prompts its console's boots declared (JobPlan.shell_prompts)

    def validate(self) -> None:
        definitions = self.parameters.get("definitions")
        if not isinstance(definitions, list) or not definitions:
            self.errors.append("'definitions' must be a non-empty list")
            return
        names: set[str] = set()
        for index, item in enumerate(definitions):
            where = f"definitions[{index}]"
            if not isinstance(item, dict):
                self.errors.append(f"{where}: must be a mapping")
                continue
            name = item.get("name")
            if not name or name == "lava":
                self.errors.append(f"{where}.name: required, and 'lava' is reserved")
            elif name in names:
                self.errors.append(f"{where}.name: '{name}' is used twice")
            names.add(str(name))
            if item.get("from") not in ("inline", "git", "url"):
                self.errors.append(f"{where}.from: must be one of inline, git, url")
            if item.get("from") in ("git", "url") and not item.get("path"):
                self.errors.append(f"{where}.path is required with from: {item.get('from')}")

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        if console is None:
            raise JobError("lava-test-shell needs a booted board (no console connection)")
        if ctx.overlay is None:
            raise JobError("lava-test-shell needs the test overlay on the board (deploy one first)")
        console.character_delay_ms = ctx.device.character_delays.get("test", 0)
        # a boot without prompts did not log in: its console knows only the device's default prompt,
        # and the shell may show the one an earlier boot of this console declared
        console.prompts = list(dict.fromkeys([*console.prompts, *self.prompts]))
        stage = self.stage
        directory = ctx.overlay.results_dir
        parser = signal_parser(ctx, stage, self.namespace)
        sink = _EventSink(ctx, parser)
        wait = self.connection_wait
        if not console.at_prompt:
            console.sendline("#")
            console.expect(console.prompts, wait(ctx), what="the shell prompt")
        if ctx.overlay.board_commands and ctx.overlay.prepared_on is not console:
            run_overlay_commands(ctx, console, ctx.overlay.board_commands, wait(ctx))
        console.add_observer(sink, needs_line_index=True)
        try:
            # one line: every command waits for the prompt, a round trip on a slow serial line; `command .`
            # goes on after a missing file (a plain `.` would end the line there), so that without the
            # overlay the runner's absence is what the board reports, as when these were two lines
            console.sendline(f"export SHELL={ctx.device.posix['lava_test_sh_cmd']}; command . {directory}/environment; "
                             f"{directory}/bin/lava-test-runner {directory}/{stage}")
            while True:
                try:
                    index = console.expect(
                        [RUNNER_EXIT, INSTALL_FAIL, TEST_RAISE, SIGNAL_PATTERN, RUNNER_MISSING], wait(ctx),
                        what="the test runner",
                        log_partial=False,
                    )
                except LAVATimeoutError:
                    continue  # quiet tests are fine: the action's own deadline is the limit
                if sink.raised is not None or index == 2:
                    # the whole line must reach the signal parser before the message is known
                    console.expect([r"\n"], wait(ctx), what="the end of the raise signal", log_partial=False)
                    raise TestError(f"lava-test-raise: {sink.raised or 'raised by the test'}")
                if index == 3:
                    self._serve_multinode(ctx, console.match.group(0))
                    continue
                if index == 4:
                    raise JobError(f"the board has no test runner at {directory}/bin ({console.match.group(0)}):"
                                   " the test overlay is not on the board's filesystem")
                if index == 1:
                    ctx.logger.results(
                        {"definition": "lava", "case": f"stage_{stage}", "result": "fail", "namespace": "common"}
                    )
                    raise TestError(f"stage {stage}: a test definition's install step failed")
                break
        finally:
            for event in sink.parser.flush():
                sink.handle(event)
            console.remove_observer(sink)
        if sink.raised is not None:
            raise TestError(f"lava-test-raise: {sink.raised}")
        console.expect(console.prompts, wait(ctx), what="the shell prompt after the test runner")

    @staticmethod
    def _serve_multinode(ctx: JobContext, signal: str) -> None:
        call = parse_signal(signal)
        if ctx.multinode is None or call is None:
            raise TestError(f"{signal}: MultiNode calls need a MultiNode job (protocols.lava-multinode)")
        # the helper on the board reads this line from the console (lava-multinode-functions)
        ctx.connection.sendline(ctx.multinode.serve(call))


class TestShellRetry(RetryAction):
    __test__ = False
    name = "lava-test-retry"
    description = "Retry support for Lava Test Shell"
    summary = "Retry support for Lava Test Shell"
    section = "test"

    def __init__(self, stage: int, prompts: list[str], retries: int) -> None:
        super().__init__(max_retries=retries)
        self.stage = stage
        self.prompts = prompts

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        self.new_pipeline().add_action(TestShellAction(self.stage, self.prompts), parameters)


class ShellTest(TestMethod):
    name = "definition"
    key = "definitions"
    schema = TEST_KINDS["definition"]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        accepted, reason = super().accepts(device, block)
        if accepted and "docker" in block.parameters:
            return False, "the block runs in a docker container (DockerTest)"
        return accepted, reason

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return TestShellRetry(plan.test_stage(block), plan.shell_prompts(block), retry_count(device, block))
