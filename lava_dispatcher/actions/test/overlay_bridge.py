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
    from lava_dispatcher.actions.boot.bootloader import dispatcher_ip
    from lava_dispatcher.test_shell import overlay
    from lava_dispatcher.test_shell.definitions import fetch_definitions

    stages = [block for block in plan.test_blocks if "definitions" in block]
    fetched = {
        stage: fetch_definitions(block["definitions"], ctx.scratch() / "definitions" / str(stage), ctx.local_files)
        for stage, block in enumerate(stages)
    }
    raw = ctx.device.raw
    target = (ctx.device.parameters.get("interfaces") or {}).get("target") or {}
    spec = overlay.OverlaySpec(
        job_id=ctx.job_id,
        stages=fetched,
        results_dir=results_dir,
        sh_cmd=ctx.device.posix["lava_test_sh_cmd"],
        environment={**ctx.device.environment, **(ctx.job.get("environment") or {})},
        secrets=ctx.job.get("secrets") or {},
        device_info=raw.get("device_info") or (),
        static_info=raw.get("static_info") or (),
        storage_info=raw.get("storage_info") or (),
        target_ip=str(target.get("ip") or ""),
        target_mac=str(target.get("mac") or ""),
        device_hostname=ctx.device.hostname,
        device_type=ctx.device.device_type,
        dispatcher_ip=dispatcher_ip(ctx),
        dispatcher_prefix=ctx.dispatcher.prefix,
        job_tags=[str(t) for t in ctx.job.get("tags") or ()],
        character_delay=ctx.device.character_delays.get("test", 0) / 1000.0,
        distro=str(_deploy_os(ctx.job) or ""),
        local_files=ctx.local_files,
        multinode=_multinode_identity(ctx, overlay),
    )
    built = overlay.build_overlay(root, spec)
    ctx.test_definitions = dict(built.runs)


def _multinode_identity(ctx: JobContext, overlay: Any) -> Any:
    protocol = ctx.multinode
    if protocol is None:
        return None
    return overlay.MultinodeIdentity(ctx.job_id, protocol.settings.role, dict(protocol.settings.roles))


def _deploy_os(job: dict[str, Any]) -> str | None:
    for item in job.get("actions") or []:
        deploy = item.get("deploy") if isinstance(item, dict) else None
        if isinstance(deploy, dict) and deploy.get("os"):
            return str(deploy["os"])
    return None


def signal_parser(ctx: JobContext, stage: int, namespace: str) -> Any:
    _require("signals")
    from lava_dispatcher.test_shell.signals import SignalParser

    return SignalParser(runs=ctx.test_definitions.get(stage, []), namespace=namespace)
