"""Retry and repeat wrappers (``failure_retry``, ``repeat``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError, LAVABug, LAVAError, TestError
from lava_dispatcher.action import Action
from lava_dispatcher.alarm import LONGEST_WAIT

if TYPE_CHECKING:
    from lava_dispatcher.action import Pipeline
    from lava_dispatcher.context import JobContext
    from lava_dispatcher.device import DeviceConfig

RETRYABLE = (InfrastructureError, JobError, TestError)


class RetryAction(Action):
    """Runs its child pipeline until it succeeds, at most ``max_retries`` times."""

    name = "retry"
    description = "retry the child pipeline on failure"
    summary = "retry on failure"

    def __init__(self, max_retries: int | None = None) -> None:
        super().__init__()
        self._explicit_retries = max_retries
        self.max_retries = max_retries or 1
        self.sleep = 1.0

    def run(self, ctx: JobContext) -> None:
        if "failure_retry_interval" in self.parameters:
            self.sleep = float(self.parameters["failure_retry_interval"])
        attempt = 0
        while True:
            attempt += 1
            try:
                super().run(ctx)
                return
            except LAVABug:
                raise
            except RETRYABLE as exc:
                ctx.logger.error(f"{self.name} failed: {attempt} of {self.max_retries} attempts. '{exc}'")
                if attempt >= self.max_retries:
                    raise type(exc)(f"{self.name} failed after {attempt} attempt(s): {exc}") from exc
                self.cleanup(ctx)
                if ctx.deadlines.remaining() <= self.sleep:
                    raise type(exc)(f"{self.name}: no time left for another attempt: {exc}") from exc
                time.sleep(min(self.sleep, LONGEST_WAIT))
                self._reset_children()

    def _reset_children(self) -> None:
        stack = list(self.pipeline.actions) if self.pipeline else []
        while stack:
            action = stack.pop()
            action.errors.clear()
            action.results.clear()
            if action.pipeline:
                stack.extend(action.pipeline.actions)


class RepeatAction(Action):
    """Runs its child pipeline ``repeat`` times regardless of the results."""

    name = "repeat"
    description = "run the child pipeline several times"
    summary = "repeat"

    def __init__(self, child_factory: Any, count: int) -> None:
        super().__init__()
        self._factory = child_factory
        self.count = count

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        for _ in range(self.count):
            pipeline.add_action(self._factory(), parameters)

    def run(self, ctx: JobContext) -> None:
        failures: list[LAVAError] = []
        for index, action in enumerate(self.pipeline.actions if self.pipeline else [], start=1):
            ctx.logger.info(f"repeat {index} of {self.count}")
            try:
                self.pipeline._run_one(ctx, action, top=False)  # noqa: SLF001 - same module family
            except (InfrastructureError, JobError, TestError) as exc:
                failures.append(exc)
        if failures:
            raise failures[-1]


class BootRetry(RetryAction):
    """A boot method's retried sequence of actions on one device; subclasses say which actions."""

    section = "boot"

    def __init__(self, device: DeviceConfig, retries: int) -> None:
        super().__init__(max_retries=retries)
        self.device = device

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        self.build(self.new_pipeline(), parameters)

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        raise NotImplementedError


class ConsoleBootRetry(BootRetry):
    """A boot through the board's console: an attempt that failed closes the console, so that
    the next attempt (or the next boot) connects afresh."""

    def cleanup(self, ctx: JobContext) -> None:
        super().cleanup(ctx)
        if ctx.connection is not None:
            ctx.connection.stop_process()
            ctx.connection = None
