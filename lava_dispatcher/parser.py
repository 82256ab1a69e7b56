"""From a job definition and a device configuration to a pipeline of actions."""

from __future__ import annotations

from typing import Any

from lava_common.exceptions import JobError
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.protocols.multinode import MultinodeSettings, is_sub_job, without_protocol
from lava_dispatcher.retry import RepeatAction
from lava_dispatcher.strategies import select_strategy
from lava_dispatcher.timeouts import TimeoutSources

SECTIONS = ("deploy", "boot", "test", "command")


def _strategies(section: str) -> list[Any]:
    # imported here so that a module only pays for the sections it uses
    if section == "deploy":
        from lava_dispatcher.actions.deploy.strategies import DEPLOY_STRATEGIES

        return DEPLOY_STRATEGIES
    if section == "boot":
        from lava_dispatcher.actions.boot.strategies import BOOT_STRATEGIES

        return BOOT_STRATEGIES
    from lava_dispatcher.actions.test.strategies import TEST_STRATEGIES

    return TEST_STRATEGIES


def schema_check(job: dict[str, Any]) -> None:
    """Use the shared job schema when it is there (it is written by another team)."""
    try:
        from lava_common.schemas import JobSchemaError, validate_job
    except ImportError:
        return
    if is_sub_job(job):
        # a sub-job the server split from a MultiNode submission: the submission schema refuses
        # its protocol block, which MultinodeSettings checks instead
        MultinodeSettings.from_job(job)
        job = without_protocol(job)
    try:
        validate_job(job)
    except JobSchemaError as exc:
        raise JobError(f"Invalid job definition: {exc}") from exc


def _blocks(job: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    actions = job.get("actions")
    if not isinstance(actions, list) or not actions:
        raise JobError("Invalid job definition: 'actions' must be a non-empty list")
    blocks = []
    for index, item in enumerate(actions):
        where = f"actions[{index}]"
        if not isinstance(item, dict) or len(item) != 1:
            raise JobError(f"{where}: each action must be a mapping with exactly one key ({', '.join(SECTIONS)})")
        section, params = next(iter(item.items()))
        if section not in SECTIONS:
            raise JobError(f"{where}: unknown action type '{section}'")
        if not isinstance(params, dict):
            raise JobError(f"{where}.{section}: must be a mapping")
        if "repeat" in params and "failure_retry" in params:
            raise JobError(f"{where}.{section}: 'repeat' and 'failure_retry' are mutually exclusive")
        blocks.append((section, params, f"{where}.{section}"))
    return blocks


def build_pipeline(job: dict[str, Any], device: DeviceConfig, job_id: str) -> tuple[Pipeline, JobPlan]:
    if not isinstance(job, dict):
        raise JobError("Invalid job definition: the job must be a mapping")
    if not isinstance(job.get("timeouts", {}), dict):
        raise JobError("Invalid job definition: 'timeouts' must be a mapping")
    blocks = _blocks(job)
    plan = JobPlan(job_id=job_id, job=job, test_blocks=[p for s, p, _ in blocks if s == "test"])
    sources = TimeoutSources(job.get("timeouts") or {}, device.timeouts)
    pipeline = Pipeline(sources=sources)
    for section, params, where in blocks:
        params = {**params, "section": section, "where": where}
        factory = _factory(section, params, device, plan, where)
        repeat = params.get("repeat")
        if repeat is not None:
            if not isinstance(repeat, int) or repeat < 1:
                raise JobError(f"{where}.repeat: must be an integer >= 1")
            pipeline.add_action(RepeatAction(factory, repeat), params)
        else:
            pipeline.add_action(factory(), params)
    from lava_dispatcher.actions.finalize import FinalizeAction

    pipeline.add_action(FinalizeAction(), {"section": "finalize"})
    return pipeline, plan


def _factory(section: str, params: dict[str, Any], device: DeviceConfig, plan: JobPlan, where: str) -> Any:
    if section == "command":
        from lava_dispatcher.actions.command import CommandAction

        return lambda: CommandAction(device)
    strategy = select_strategy(_strategies(section), device, params, where)

    def make() -> Action:
        return strategy.build(device, params, plan)

    return make
