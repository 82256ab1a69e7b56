"""``test: interactive:``: expect-style scripts for consoles without a POSIX shell (bootloaders, RTOS).

Each script step sends its command (or nothing), then waits for the prompt,
a success message or a failure message; named steps become results of
``<index>_<test name>``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError, LAVAError, TestError
from lava_common.schemas.test import TEST_KINDS
from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import TestMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import RetryAction

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

EXCEPTIONS: dict[str, type[LAVAError]] = {
    "InfrastructureError": InfrastructureError,
    "JobError": JobError,
    "TestError": TestError,
}


class InteractiveAction(Action):
    name = "lava-test-interactive"
    description = "Executing lava-test-interactive"
    summary = "Lava Test Interactive"
    section = "test"

    def validate(self) -> None:
        tests = self.parameters.get("interactive")
        if not isinstance(tests, list) or not tests:
            self.errors.append("'interactive' must be a non-empty list")
            return
        for index, test in enumerate(tests):
            where = f"interactive[{index}]"
            if not isinstance(test, dict) or not test.get("name") or not isinstance(test.get("script"), list):
                self.errors.append(f"{where}: needs 'name' and a 'script' list")
                continue
            if not test.get("prompts"):
                self.errors.append(f"{where}: 'prompts' is required")
            for step_index, step in enumerate(test["script"]):
                for failure in step.get("failures") or [] if isinstance(step, dict) else []:
                    kind = failure.get("exception")
                    if kind is not None and kind not in EXCEPTIONS:
                        self.errors.append(f"{where}.script[{step_index}]: unknown exception '{kind}'")

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        if console is None:
            raise JobError("interactive tests need a console connection (boot first)")
        for index, test in enumerate(self.parameters["interactive"]):
            self._run_test(ctx, f"{index}_{test['name']}", test)

    def _run_test(self, ctx: JobContext, definition: str, test: dict[str, Any]) -> None:
        console = ctx.connection
        prompts = [str(p) for p in test["prompts"]]
        for step in test["script"]:
            command = step.get("command")
            if command is not None:
                console.sendline(str(command))
                if test.get("echo") == "discard":
                    console.expect([re.escape(str(command))], self.connection_wait(ctx), what="the command echo")
            successes = [str(s["message"]) for s in step.get("successes") or []]
            failures = list(step.get("failures") or [])
            if not successes and not failures and not step.get("wait_for_prompt", True):
                continue
            patterns = successes + [str(f["message"]) for f in failures] + prompts
            found = console.expect(patterns, self.connection_wait(ctx), what=f"the reply to '{command}'")
            result = "pass"
            if found >= len(successes) and found < len(successes) + len(failures):
                failure = failures[found - len(successes)]
                result = "fail"
                if failure.get("exception"):
                    self._report(ctx, definition, step, result)
                    raise EXCEPTIONS[failure["exception"]](failure.get("error") or f"matched '{failure['message']}'")
            elif successes and found >= len(successes):
                result = "fail"  # the prompt came back without any of the expected messages
            if found < len(successes) + len(failures) and step.get("wait_for_prompt", True):
                console.expect(prompts, self.connection_wait(ctx), what="the prompt")
            self._report(ctx, definition, step, result)

    @staticmethod
    def _report(ctx: JobContext, definition: str, step: dict[str, Any], result: str) -> None:
        if step.get("name"):
            ctx.logger.results({"definition": definition, "case": str(step["name"]), "result": result})


class InteractiveRetry(RetryAction):
    name = "lava-test-interactive-retry"
    description = "Retry support for Lava Test Interactive"
    summary = "Retry support for Lava Test Interactive"
    section = "test"

    def __init__(self, retries: int) -> None:
        super().__init__(max_retries=retries)

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        self.new_pipeline().add_action(InteractiveAction(), parameters)


class InteractiveTest(TestMethod):
    name = "interactive"
    key = "interactive"
    schema = TEST_KINDS["interactive"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return InteractiveRetry(retry_count(device, block))
