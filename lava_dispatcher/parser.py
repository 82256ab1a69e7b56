"""From a job definition and a device configuration to a pipeline of actions."""

from __future__ import annotations

from typing import Any

from lava_common.exceptions import JobError
from lava_common.schemas import JobSchemaError, validate_job
from lava_common.timeouts import TimeoutSources
from lava_dispatcher.action import Pipeline
from lava_dispatcher.actions.finalize import FinalizeAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import Method, select_method
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.protocols.multinode_job import MultinodeSettings, is_sub_job, without_protocol
from lava_dispatcher.registry import named_methods, section_methods
from lava_dispatcher.retry import RepeatAction


def schema_check(job: dict[str, Any]) -> list[str]:
    """Check the job against the shared job schema; return its warnings.

    A timeout longer than the job's is not refused here: the reference's
    lava-run runs such a job (tuxrun's boot-only jobs are like that) and
    ``Job.validate`` warns about it; the server refuses it at submission.
    """
    if is_sub_job(job):
        # a sub-job the server split from a MultiNode submission: the submission schema refuses
        # its protocol block, which MultinodeSettings checks instead
        MultinodeSettings.from_job(job)
        job = without_protocol(job)
    try:
        return [str(issue) for issue in validate_job(job, refuse_long_timeouts=False)]
    except JobSchemaError as exc:
        raise JobError(f"Invalid job definition: {exc}") from exc


def choose_method(device: DeviceConfig, block: PlanBlock) -> type[Method]:
    """The method that runs the block, loading only the methods the block names."""
    try:
        return select_method(named_methods(block), device, block)
    except JobError:
        # the refusal names every method of the section with its reason
        return select_method(section_methods(block.section), device, block)


def build_pipeline(job: dict[str, Any], device: DeviceConfig, job_id: str) -> tuple[Pipeline, JobPlan]:
    plan = JobPlan.from_job(job_id, job)
    if not isinstance(job.get("timeouts", {}), dict):
        raise JobError("Invalid job definition: 'timeouts' must be a mapping")
    pipeline = Pipeline(sources=TimeoutSources(job.get("timeouts") or {}, device.timeouts))
    for block in plan.blocks:
        method = choose_method(device, block)
        parameters = dict(block.parameters)
        repeat = parameters.get("repeat")
        if repeat is None:
            pipeline.add_action(method.build(device, block, plan), parameters)
            continue
        if not isinstance(repeat, int) or repeat < 1:
            raise JobError(f"{block.where}.repeat: must be an integer >= 1")
        pipeline.add_action(RepeatAction(lambda m=method, b=block: m.build(device, b, plan), repeat), parameters)
    pipeline.add_action(FinalizeAction(stop_services=any("services" in block.parameters
                                                         for block in plan.section("test"))), {})
    return pipeline, plan
