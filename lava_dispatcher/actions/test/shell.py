"""``test: definitions:``: start the lava-test-shell runner on the board and follow its signals.

Console lines go to the test-shell signal parser as they are read; its events
become ``results`` records (with ``starttc``/``endtc`` markers), and a
``TESTRAISE`` ends the test with a TestError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError, LAVATimeoutError, TestError
from lava_dispatcher.action import Action
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.retry import RetryAction

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

RUNNER_EXIT = "<LAVA_TEST_RUNNER EXIT>"
INSTALL_FAIL = "<LAVA_TEST_RUNNER INSTALL_FAIL>"
TEST_RAISE = "<LAVA_SIGNAL_TESTRAISE"


class _EventSink:
    """Turns parser events into log records; remembers a raise for the action to act on."""

    def __init__(self, ctx: JobContext, parser: Any, namespace: str) -> None:
        self.ctx = ctx
        self.parser = parser
        self.namespace = namespace
        self.raised: str | None = None
        self.seen_runs: list[str] = []

    def __call__(self, line: str) -> None:
        for event in self.parser.feed(line) or ():
            self.handle(event)

    def handle(self, event: Any) -> None:
        kind = getattr(event, "kind", None) or (event.get("kind") if isinstance(event, dict) else None)
        data = getattr(event, "data", None)
        if data is None and isinstance(event, dict):
            data = event.get("data", event)
        logger = self.ctx.logger
        if kind in ("result", "results"):
            logger.results({**data, "namespace": self.namespace} if "namespace" not in data else data)
        elif kind in ("starttc", "endtc"):
            logger.marker(str(data.get("case")), kind)
        elif kind == "raise":
            self.raised = str(data.get("message", data))
        elif kind == "startrun":
            self.seen_runs.append(str(data.get("name", "")))
            logger.info(f"Starting test run {data.get('name', '')}")
        elif kind == "endrun":
            logger.info(f"Ending test run {data.get('name', '')}")
        elif kind in ("warning", "error", "info", "debug"):
            getattr(logger, kind)(data.get("message", data) if isinstance(data, dict) else data)


class TestShellAction(Action):
    __test__ = False
    name = "lava-test-shell"
    description = "Executing lava-test-runner"
    summary = "Lava Test Shell"
    section = "test"
    timeout_exception = TestError

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

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
        from lava_dispatcher.actions.test.overlay_bridge import signal_parser

        console = ctx.connection
        if console is None:
            raise JobError("lava-test-shell needs a booted board (no console connection)")
        if ctx.overlay is None:
            raise JobError("lava-test-shell needs the test overlay on the board (deploy one first)")
        console.character_delay_ms = ctx.device.character_delays.get("test", 0)
        stage = self.plan.test_stage(self._block())
        directory = ctx.overlay.results_dir
        sink = _EventSink(ctx, signal_parser(self.parameters["definitions"]), self.parameters.get("namespace", "common"))
        wait = self.connection_wait
        console.sendline("#")
        console.expect(console.prompts, wait(ctx), what="the shell prompt")
        console.sendline(f"export SHELL={ctx.device.posix['lava_test_sh_cmd']}")
        console.expect(console.prompts, wait(ctx), what="the shell prompt")
        console.sendline(f". {directory}/environment")
        console.expect(console.prompts, wait(ctx), what="the shell prompt")
        console.add_observer(sink)
        try:
            console.sendline(f"{directory}/bin/lava-test-runner {directory}/{stage}")
            while True:
                try:
                    index = console.expect([RUNNER_EXIT, INSTALL_FAIL, TEST_RAISE], wait(ctx), what="the test runner")
                except LAVATimeoutError:
                    continue  # quiet tests are fine: the action's own deadline is the limit
                if sink.raised is not None or index == 2:
                    console.expect([r">"], wait(ctx), what="the end of the raise signal")
                    raise TestError(f"lava-test-raise: {sink.raised or 'raised by the test'}")
                if index == 1:
                    ctx.logger.results(
                        {"definition": "lava", "case": f"stage_{stage}", "result": "fail", "namespace": "common"}
                    )
                    raise TestError(f"stage {stage}: a test definition's install step failed")
                break
        finally:
            finish = getattr(sink.parser, "finish", None)
            if callable(finish):
                for event in finish() or ():
                    sink.handle(event)
            console.remove_observer(sink)
        if sink.raised is not None:
            raise TestError(f"lava-test-raise: {sink.raised}")
        console.expect(console.prompts, wait(ctx), what="the shell prompt after the test runner")

    def _block(self) -> dict[str, Any]:
        for block in self.plan.test_blocks:
            if block.get("definitions") is self.parameters.get("definitions"):
                return block
        return self.parameters


class TestShellRetry(RetryAction):
    __test__ = False
    name = "lava-test-retry"
    description = "Retry support for Lava Test Shell"
    summary = "Retry support for Lava Test Shell"
    section = "test"

    def __init__(self, plan: JobPlan, retries: int) -> None:
        super().__init__(max_retries=retries)
        self.plan = plan

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        self.new_pipeline().add_action(TestShellAction(self.plan), parameters)
