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


def _test_shell() -> Any:
    try:
        from lava_dispatcher import test_shell
        from lava_dispatcher.test_shell import overlay  # noqa: F401 - must exist
    except ImportError as exc:
        raise InfrastructureError(f"the lava-test-shell support is not installed: {exc}") from exc
    return test_shell


def build_test_overlay(ctx: JobContext, plan: JobPlan, root: Path, results_dir: str) -> None:
    _test_shell()
    from lava_dispatcher.test_shell.overlay import OverlaySpec, build_overlay

    spec = OverlaySpec(
        job_id=ctx.job_id,
        results_dir=results_dir,
        test_blocks=[block for block in plan.test_blocks if "definitions" in block],
        environment={**(ctx.job.get("environment") or {}), **ctx.device.environment},
        secrets=ctx.job.get("secrets") or {},
        device=ctx.device.raw,
        shell=ctx.device.posix["lava_test_sh_cmd"],
        scratch=ctx.scratch(),
    )
    build_overlay(root, spec)


def signal_parser(definitions: list[dict[str, Any]]) -> Any:
    _test_shell()
    from lava_dispatcher.test_shell.signals import SignalParser

    return SignalParser(definitions)
