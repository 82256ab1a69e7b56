"""Stopping the job's test services: ``command: stop_test_services``, and always at the job's end.

A module of its own, with no import of compose or git: finalize and the
command action load it for every job that has test services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_common.constants import CLEANUP_TIMEOUT
from lava_common.exceptions import InfrastructureError
from lava_dispatcher.action import Action
from lava_dispatcher.plan import JobPlan

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

STOP_COMMAND = "stop_test_services"  # the builtin `command: name:` that stops them


def has_services_before(plan: JobPlan, position: int) -> bool:
    """Whether a test block with ``services`` comes before the job's block at ``position``."""
    return any("services" in block.parameters for block in plan.section("test") if block.position < position)


def stop_test_services(ctx: JobContext) -> None:
    """docker-compose down, then removal by label of whatever is left; raises naming what stayed."""
    project = ctx.test_services
    if project is None:
        return
    left = project.down(timeout=max(1.0, min(ctx.deadlines.remaining(), CLEANUP_TIMEOUT)))
    ctx.test_services = None
    if left:
        raise InfrastructureError(f"test services of project '{project.name}' could not all be removed: {'; '.join(left)}")
    ctx.logger.info(f"test services of project '{project.name}' stopped and removed")


class StopTestServicesAction(Action):
    name = "stop-test-services"
    description = "stop and remove the docker-compose services the job started for its tests"
    summary = "stop test services"
    section = "command"

    def __init__(self, plan: JobPlan | None = None, position: int = -1) -> None:
        super().__init__()
        self.plan = plan  # None: at the job's end (finalize), where no services is fine
        self.position = position

    def validate(self) -> None:
        if self.plan is not None and not has_services_before(self.plan, self.position):
            self.errors.append(f"'{STOP_COMMAND}': no test block with 'services' comes before this command")

    def run(self, ctx: JobContext) -> None:
        if ctx.test_services is None:
            if self.plan is not None:
                ctx.logger.info("no test services are running")
            return
        stop_test_services(ctx)
