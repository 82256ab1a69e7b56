"""The seam between the dispatcher's actions and the test-shell package.

The test-shell package (``lava_dispatcher.test_shell``) owns the overlay layout,
the helper scripts, definition fetching, ramdisk packing and the console signal
grammar; this module adapts its API to the job context, so only this file
changes if it moves. Its modules are imported inside the functions on purpose:
they pull in tarfile, subprocess, lzma and hashlib, which `lava-run --validate`
must not pay for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_dispatcher.actions.boot.bootloader import dispatcher_ip
from lava_dispatcher.plan import JobPlan

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def build_test_overlay(ctx: JobContext, plan: JobPlan, root: Path, results_dir: str) -> None:
    """Fetch every stage's definitions and lay out the overlay tree in ``root``."""
    from lava_dispatcher.test_shell import overlay  # deferred: heavy (see above)
    from lava_dispatcher.test_shell.definitions import fetch_definitions  # deferred: heavy (see above)

    fetched = {
        stage: fetch_definitions(block.parameters["definitions"], ctx.scratch() / "definitions" / str(stage), ctx.local_files)
        for stage, block in enumerate(plan.test_shell_blocks)
    }
    raw = ctx.device.raw
    target = (ctx.device.parameters.get("interfaces") or {}).get("target") or {}
    spec = overlay.OverlaySpec(
        job_id=ctx.job_id,
        stages=fetched,
        results_dir=results_dir,
        sh_cmd=ctx.device.posix["lava_test_sh_cmd"],
        environment={**ctx.device.environment, **plan.environment},
        secrets=dict(plan.secrets),
        device_info=raw.get("device_info") or (),
        static_info=raw.get("static_info") or (),
        storage_info=raw.get("storage_info") or (),
        target_ip=str(target.get("ip") or ""),
        target_mac=str(target.get("mac") or ""),
        device_hostname=ctx.device.hostname,
        device_type=ctx.device.device_type,
        dispatcher_ip=dispatcher_ip(ctx),
        dispatcher_prefix=ctx.dispatcher.prefix,
        job_tags=list(plan.tags),
        character_delay=ctx.device.character_delays.get("test", 0) / 1000.0,
        distro=plan.deploy_os,
        local_files=ctx.local_files,
        multinode=_multinode_identity(ctx, overlay),
    )
    built = overlay.build_overlay(root, spec)
    ctx.test_definitions = dict(built.runs)


def _multinode_identity(ctx: JobContext, overlay: Any) -> Any:
    protocol = ctx.multinode
    if protocol is None:
        return None
    network = protocol.network
    return overlay.MultinodeIdentity(ctx.job_id, protocol.settings.role, dict(protocol.settings.roles),
                                     network.address if network else "", network.mac if network else "")


def append_tree_to_ramdisk(ramdisk: Path, tree: Path) -> None:
    """Append ``tree`` to a cpio.newc ramdisk as an extra archive, compressed as the ramdisk was."""
    from lava_dispatcher.test_shell.ramdisk import append_overlay_to_cpio  # deferred: heavy (see above)

    out = ramdisk.with_name(ramdisk.name + ".new")
    append_overlay_to_cpio(ramdisk, tree, out)
    out.replace(ramdisk)


def signal_parser(ctx: JobContext, stage: int, namespace: str) -> Any:
    from lava_dispatcher.test_shell.signals import SignalParser  # deferred: heavy (see above)

    return SignalParser(runs=ctx.test_definitions.get(stage, []), namespace=namespace)
