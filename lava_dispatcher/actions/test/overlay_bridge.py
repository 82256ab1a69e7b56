"""The seam between the dispatcher's actions and the test-shell package.

The test-shell package (``lava_dispatcher.test_shell``) owns the overlay layout,
the helper scripts, definition fetching and the console signal grammar; this
module adapts its API to the job context, so only this file changes if it moves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext
    from lava_dispatcher.plan import JobPlan


def _require(module: str) -> None:
    try:
        __import__(f"lava_dispatcher.test_shell.{module}")
    except ImportError as exc:
        raise InfrastructureError(f"the lava-test-shell support is not installed: {exc}") from exc


def build_test_overlay(ctx: JobContext, plan: JobPlan, root: Path, results_dir: str) -> None:
    """Fetch every stage's definitions and lay out the overlay tree in ``root``."""
    _require("definitions")
    _require("overlay")
    from lava_dispatcher.test_shell import overlay
    from lava_dispatcher.test_shell.definitions import fetch_definitions

    stages = [block for block in plan.test_blocks if "definitions" in block]
    for stage, block in enumerate(stages):
        fetched = fetch_definitions(block["definitions"], ctx.scratch() / "definitions" / str(stage))
        for definition in fetched:
            definition.uuid = f"{ctx.job_id}_{stage}.{definition.index}"
        ctx.test_definitions[stage] = fetched
    spec = overlay.OverlaySpec(
        job_id=ctx.job_id,
        results_dir=results_dir,
        stages=[ctx.test_definitions[i] for i in range(len(stages))],
        environment={**(ctx.job.get("environment") or {})},
        device=ctx.device.raw,
        secrets=ctx.job.get("secrets") or {},
        shell=ctx.device.posix["lava_test_sh_cmd"],
    )
    overlay.build_overlay(root, spec)


def signal_parser(ctx: JobContext, stage: int, namespace: str) -> Any:
    _require("signals")
    from lava_dispatcher.test_shell.signals import RunInfo, SignalParser

    runs = []
    for definition in ctx.test_definitions.get(stage, []):
        parse = definition.testdef.get("parse") or {}
        runs.append(
            RunInfo(
                definition=definition.testrun_id,
                uuid=definition.uuid,
                repository=definition.repository,
                path=definition.path,
                revision=definition.revision,
                commit_id=definition.commit_id,
                pattern=parse.get("pattern"),
                fixupdict=parse.get("fixupdict") or {},
                expected=definition.expected,
            )
        )
    return SignalParser(runs=runs, namespace=namespace)
