"""Actions and pipelines: the job as a tree with levels (1, 1.1, 2.3.1...).

An action is populated at parse time (builds its children), validated
before anything touches a board, then run under its own deadline.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from lava_common.exceptions import LAVABug, LAVAError, LAVATimeoutError
from lava_common.timeouts import Timeout, TimeoutSources, format_duration
from lava_dispatcher.plan import DEFAULT_NAMESPACE

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class Action:
    name: ClassVar[str] = "action"
    description: ClassVar[str] = "base action"
    summary: ClassVar[str] = "base action"
    section: ClassVar[str] = ""

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {}
        self.level = ""
        self.pipeline: Pipeline | None = None
        self.timeout = Timeout(self.name)
        self.connection_timeout = Timeout(self.name)
        self.max_retries = 1
        self.errors: list[str] = []
        self.results: dict[str, Any] = {}
        self.sources: TimeoutSources | None = None
        self.parent: Action | None = None
        self.namespace = DEFAULT_NAMESPACE
        self.connection_namespace = ""  # `connection-namespace:`: use that namespace's console ("" = own)

    # -- parse time
    def populate(self, parameters: dict[str, Any]) -> None:
        """Build the child pipeline, if any."""

    def new_pipeline(self) -> Pipeline:
        self.pipeline = Pipeline(parent=self, sources=self.sources)
        return self.pipeline

    # -- validation: pure checks, no I/O on the board
    def validate(self) -> None:
        if self.pipeline:
            self.pipeline.validate()

    def all_errors(self) -> list[str]:
        found = [f"{self.level} {self.name}: {err}" for err in self.errors]
        if self.pipeline:
            for child in self.pipeline.actions:
                found.extend(child.all_errors())
        return found

    # -- run time
    def run(self, ctx: JobContext) -> None:
        if self.pipeline:
            self.pipeline.run_actions(ctx)

    def cleanup(self, ctx: JobContext) -> None:
        """Called after a failure, on the whole tree; must not raise."""
        if self.pipeline:
            for child in self.pipeline.actions:
                try:
                    child.cleanup(ctx)
                except Exception as exc:  # noqa: BLE001 - cleanup goes on whatever happens
                    ctx.logger.warning(f"cleanup of {child.name} failed: {exc}")

    def connection_wait(self, ctx: JobContext) -> float:
        """Seconds for one console wait: the connection timeout, bounded by the action's deadline."""
        return max(0.1, min(float(self.connection_timeout.duration), ctx.deadlines.remaining()))

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "class": type(self).__name__,
            "name": self.name,
            "level": self.level,
            "max_retries": self.max_retries,
            "description": self.description,
            "summary": self.summary,
            "timeout": self.timeout.duration,
        }
        if self.pipeline and self.pipeline.actions:
            data["pipeline"] = self.pipeline.describe()
        return data


class Pipeline:
    def __init__(self, parent: Action | None = None, sources: TimeoutSources | None = None):
        self.parent = parent
        self.sources = sources or TimeoutSources({}, {})
        self.actions: list[Action] = []

    def add_action(self, action: Action, parameters: dict[str, Any] | None = None) -> Action:
        parameters = parameters if parameters is not None else {}
        index = len(self.actions) + 1
        action.level = f"{self.parent.level}.{index}" if self.parent else str(index)
        action.parent = self.parent
        action.parameters = parameters
        inherited = self.parent.namespace if self.parent else DEFAULT_NAMESPACE
        action.namespace = str(parameters.get("namespace") or inherited)
        inherited_console = self.parent.connection_namespace if self.parent else ""
        action.connection_namespace = str(parameters.get("connection-namespace") or inherited_console)
        action.sources = self.sources
        share = None
        if self.parent is not None and self.parent.max_retries > 1:
            share = self.parent.timeout.duration // self.parent.max_retries
        action.timeout = self.sources.action_timeout(action.name, parameters, share)
        action.connection_timeout = self.sources.connection_timeout(action.name, action.timeout.duration)
        self.actions.append(action)
        action.populate(parameters)
        return action

    def validate(self) -> None:
        for action in self.actions:
            try:
                action.validate()
            except LAVAError as exc:
                action.errors.append(str(exc))

    def describe(self) -> list[dict[str, Any]]:
        return [action.describe() for action in self.actions]

    def run_actions(self, ctx: JobContext) -> None:
        top = self.parent is None
        for action in self.actions:
            self._run_one(ctx, action, top)

    def _run_one(self, ctx: JobContext, action: Action, top: bool) -> None:
        log = ctx.logger.info if top else ctx.logger.debug
        log(f"start: {action.level} {action.name} (timeout {format_duration(action.timeout.duration)})")
        started = time.monotonic()
        deadline = ctx.deadlines.push(action.name, action.timeout.duration)
        failed = False
        outer_namespace, ctx.namespace = ctx.namespace, action.namespace
        outer_console, ctx.connection_namespace = ctx.connection_namespace, action.connection_namespace
        try:
            if top and ctx.multinode is not None:
                # the action block's own MultiNode requests come first, within its timeout
                where = f"actions[{int(action.level) - 1}].{action.section or action.name}"
                ctx.multinode.before_action(action.name, action.parameters, where)
            action.run(ctx)
        except LAVATimeoutError as exc:
            failed = True
            action.errors.append(str(exc))
            if top and action.timeout.skip and not getattr(exc, "job_wall", False):
                ctx.logger.warning(f"{action.name}: {exc}; skipping to the next action (timeout.skip)")
                return
            raise
        except LAVAError as exc:
            failed = True
            action.errors.append(str(exc))
            raise
        except Exception as exc:
            failed = True
            action.errors.append(str(exc))
            raise LAVABug(f"{action.name}: {type(exc).__name__}: {exc}") from exc
        finally:
            ctx.namespace = outer_namespace
            ctx.connection_namespace = outer_console
            ctx.deadlines.pop(deadline)
            duration = time.monotonic() - started
            log(f"end: {action.level} {action.name} (duration {format_duration(duration)})")
            if action.results or failed:
                ctx.logger.results(
                    {
                        "definition": "lava",
                        "case": action.name,
                        "level": action.level,
                        "duration": f"{duration:.02f}",
                        "result": "fail" if failed else "pass",
                        "extra": dict(action.results),
                    }
                )
