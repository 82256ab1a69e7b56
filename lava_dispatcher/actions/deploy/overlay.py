"""The test-shell overlay: built on the worker, then put into the board's ramdisk.

Building the overlay tree is the test-shell package's job; this module only
drives it and injects trees (the lava overlay, ``modules``/tarball overlays)
into a ``cpio.newc`` ramdisk by appending a compressed cpio member, which the
kernel unpacks over the original one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.safe_paths import inside
from lava_dispatcher.action import Action
from lava_dispatcher.context import OverlayInfo
from lava_dispatcher.plan import JobPlan

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def results_dir(ctx: JobContext) -> str:
    template = str(ctx.job.get("context", {}).get("lava_test_results_dir") or ctx.device.posix["lava_test_results_dir"])
    return template % ctx.job_id if "%s" in template else template


class OverlayAction(Action):
    name = "lava-overlay"
    description = "add lava scripts and test definitions to the overlay"
    summary = "overlay the lava support scripts"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher.actions.test.overlay_bridge import build_test_overlay

        root = ctx.scratch() / "overlay"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        target_dir = results_dir(ctx)
        build_test_overlay(ctx, self.plan, root, target_dir)
        ctx.overlay = OverlayInfo(root=root, results_dir=target_dir)
        ctx.logger.info(f"overlay for {target_dir} built in {root}")


def _compression_of(path: Path) -> str | None:
    with path.open("rb") as handle:
        magic = handle.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return "gz"
    if magic.startswith(b"\xfd7zXZ"):
        return "xz"
    if magic.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    return None


def append_tree_to_cpio(ramdisk: Path, tree: Path) -> None:
    """Append ``tree`` as an extra gzip'd newc member; the kernel reads concatenated archives."""
    try:
        from lava_dispatcher.test_shell.overlay import append_overlay_to_cpio
    except ImportError:
        append_overlay_to_cpio = None
    if append_overlay_to_cpio is not None:
        out = ramdisk.with_name(ramdisk.name + ".new")
        append_overlay_to_cpio(ramdisk, tree, out, _compression_of(ramdisk))
        out.replace(ramdisk)
        return
    import gzip
    import subprocess

    if not shutil.which("cpio"):
        raise InfrastructureError("appending an overlay to a ramdisk needs the 'cpio' program on the worker")
    names = subprocess.run(["find", "."], cwd=tree, capture_output=True, check=True).stdout
    proc = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=tree, input=names, capture_output=True)
    if proc.returncode != 0:
        raise InfrastructureError(f"cpio failed: {proc.stderr.decode(errors='replace').strip()}")
    with ramdisk.open("ab") as out:
        out.write(gzip.compress(proc.stdout, compresslevel=1))


def extract_tarball(tarball: Path, dest: Path) -> None:
    import tarfile

    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(dest, filter="tar")
    except (tarfile.TarError, OSError) as exc:
        raise JobError(f"cannot extract overlay '{tarball.name}': {exc}") from exc


class ApplyOverlayAction(Action):
    """Puts the lava overlay and tarball overlays into each ``cpio.newc`` image that asks for them."""

    name = "apply-overlay"
    description = "apply overlays to ramdisk images"
    summary = "apply overlays"
    section = "deploy"

    def __init__(self, images: dict[str, Any]) -> None:
        super().__init__()
        self.images = images

    def validate(self) -> None:
        for label, block in self.images.items():
            fmt = block.get("format")
            if block.get("overlays") and fmt not in (None, "cpio.newc"):
                self.errors.append(f"{label}: overlays are only supported on cpio.newc images, not '{fmt}'")

    def run(self, ctx: JobContext) -> None:
        for label, block in self.images.items():
            overlays = block.get("overlays") or {}
            ramdisk = ctx.downloaded[label]
            for name, spec in overlays.items():
                if name == "lava":
                    if spec and ctx.overlay is not None:
                        append_tree_to_cpio(ramdisk, ctx.overlay.root)
                        ctx.logger.info(f"{label}: lava overlay added")
                    continue
                tree = ctx.scratch() / f"overlay-{label}-{name}"
                target = inside(tree, str(spec.get("path", "/")), f"images.{label}.overlays.{name}.path")
                target.mkdir(parents=True, exist_ok=True)
                source = ctx.downloaded[spec.get("_label", f"{label}.{name}")]
                if spec.get("format", "tar") == "tar":
                    extract_tarball(source, target)
                else:
                    shutil.copy(source, target / source.name)
                append_tree_to_cpio(ramdisk, tree)
                ctx.logger.info(f"{label}: overlay '{name}' added at {spec.get('path', '/')}")
