"""``test: monitors:``: harvest results from a board that tests itself after boot; nothing is sent."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_common.schemas.test import TEST_KINDS
from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import TestMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import RetryAction

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

VALID_RESULTS = ("pass", "fail", "skip", "unknown")


class MonitorAction(Action):
    name = "lava-test-monitor"
    description = "Executing lava-test-monitor"
    summary = "Lava Test Monitor"
    section = "test"

    def validate(self) -> None:
        monitors = self.parameters.get("monitors")
        if not isinstance(monitors, list) or not monitors:
            self.errors.append("'monitors' must be a non-empty list")
            return
        for index, monitor in enumerate(monitors):
            where = f"monitors[{index}]"
            missing = [k for k in ("name", "start", "end", "pattern") if not isinstance(monitor, dict) or not monitor.get(k)]
            if missing:
                self.errors.append(f"{where}: missing {', '.join(missing)}")
                continue
            try:
                re.compile(monitor["pattern"])
            except re.error as exc:
                self.errors.append(f"{where}.pattern: {exc}")

    def run(self, ctx: JobContext) -> None:
        if ctx.connection is None:
            raise JobError("monitors need a console connection (boot first)")
        for index, monitor in enumerate(self.parameters["monitors"]):
            self._monitor(ctx, f"{index}_{monitor['name']}", monitor)

    def _monitor(self, ctx: JobContext, definition: str, monitor: dict[str, Any]) -> None:
        console = ctx.connection
        console.expect([str(monitor["start"])], self.connection_wait(ctx), what=f"'{monitor['start']}'")
        fixup = {str(k): str(v) for k, v in (monitor.get("fixupdict") or {}).items()}
        patterns = [str(monitor["end"]), str(monitor["pattern"])]
        seen: set[str] = set()
        wait = self.connection_wait
        while console.expect(patterns, wait(ctx), what=f"'{monitor['end']}'", log_partial=False) == 1:
            groups = console.match.groupdict()
            case = (groups.get("test_case_id") or "").strip()
            result = fixup.get(groups.get("result", ""), groups.get("result", "")).lower()
            if not case or " " in case:
                continue
            if result not in VALID_RESULTS:
                ctx.logger.warning(f"{definition}: result '{result}' of '{case}' is not one of {VALID_RESULTS}")
                result = "unknown"
            record: dict[str, Any] = {"definition": definition, "case": case, "result": result}
            if groups.get("measurement"):
                try:
                    record["measurement"] = float(groups["measurement"])
                except ValueError:
                    ctx.logger.warning(f"{definition}: measurement of '{case}' is not a number")
                if groups.get("units"):
                    record["units"] = groups["units"]
            seen.add(case)
            ctx.logger.results(record)
        for case in monitor.get("expected") or []:
            if case not in seen:
                ctx.logger.results({"definition": definition, "case": str(case), "result": "fail"})


class MonitorRetry(RetryAction):
    name = "lava-test-monitor-retry"
    description = "Retry support for Lava Test Monitoring"
    summary = "Retry support for Lava Test Monitoring"
    section = "test"

    def __init__(self, retries: int) -> None:
        super().__init__(max_retries=retries)

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        self.new_pipeline().add_action(MonitorAction(), parameters)


class MonitorTest(TestMethod):
    name = "monitor"
    key = "monitors"
    schema = TEST_KINDS["monitor"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return MonitorRetry(retry_count(device, block))
