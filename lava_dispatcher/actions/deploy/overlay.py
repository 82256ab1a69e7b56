"""The test-shell overlay: built on the worker, then put into the board's ramdisk.

Building the overlay tree is the test-shell package's job; this module only
drives it and injects trees (the lava overlay, ``modules``/tarball overlays)
into a ``cpio.newc`` ramdisk by appending a compressed cpio member, which the
kernel unpacks over the original one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.safe_paths import inside
from lava_dispatcher.action import Action
from lava_dispatcher.actions.test.overlay_bridge import append_tree_to_ramdisk, build_test_overlay
from lava_dispatcher.context import OverlayInfo
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.ssh_target import ssh_target

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def results_dir(plan: JobPlan, device: DeviceConfig) -> str:
    template = str(plan.context.get("lava_test_results_dir") or device.posix["lava_test_results_dir"])
    return template % plan.job_id if "%s" in template else template


class TreeOverlay(NamedTuple):
    """A downloaded file or tarball to unpack into an image at ``path``; ``name: lava`` is the test overlay."""

    name: str
    source: str = ""  # label of the downloaded file (ctx.downloaded)
    path: str = "/"
    format: str = "tar"


LAVA_OVERLAY = TreeOverlay("lava")


DISK_FORMATS = ("ext4", "raw", "qcow2")


class ImageOverlays(NamedTuple):
    """The overlays one image receives, in the order they are appended (a later one wins)."""

    label: str  # the image, as downloaded (ctx.downloaded)
    format: str | None
    overlays: tuple[TreeOverlay, ...]
    partition: int | None = None  # of a disk image: which partition (0-based) holds the filesystem

    @property
    def is_disk(self) -> bool:
        """A filesystem or disk image (written with e2fsprogs), not a cpio ramdisk (appended to)."""
        return self.format in DISK_FORMATS or self.partition is not None


class OverlayAction(Action):
    name = "lava-overlay"
    description = "add lava scripts and test definitions to the overlay"
    summary = "overlay the lava support scripts"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def run(self, ctx: JobContext) -> None:
        root = ctx.scratch() / "overlay"
        if root.exists():
            import shutil  # deferred: shutil imports bz2 and lzma, which `lava-run --validate` never needs

            shutil.rmtree(root)
        root.mkdir(parents=True)
        target_dir = results_dir(self.plan, ctx.device)
        build_test_overlay(ctx, self.plan, root, target_dir)
        if self.parameters.get("authorize") == "ssh":
            authorize_ssh(ctx, root)
        ctx.overlay = OverlayInfo(root=root, results_dir=target_dir)
        ctx.logger.info(f"overlay for {target_dir} built in {root}")


def authorize_ssh(ctx: JobContext, root: Path) -> None:
    """``authorize: ssh``: the board will accept the worker's ssh key (the device's ssh_identity_file) for
    root, so that a later ``boot: method: ssh`` (a secondary connection) can log in."""
    public = Path(f"{ssh_target(ctx.device, require_host=False).identity_file}.pub")
    if not public.is_file():
        raise InfrastructureError(f"authorize: ssh needs the public key {public} on this worker "
                                  "(device dictionary: ssh_identity_file, plus .pub)")
    ssh_dir = root / "root" / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    (root / "root").chmod(0o700)
    ssh_dir.chmod(0o700)
    keys = ssh_dir / "authorized_keys"
    keys.write_text(public.read_text())
    keys.chmod(0o600)
    ctx.logger.info(f"authorize: ssh: {public.name} goes to /root/.ssh/authorized_keys")


def extract_tarball(tarball: Path, dest: Path) -> None:
    import tarfile  # deferred: a heavy import that only jobs with tarball overlays need

    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(dest, filter="tar")
    except (tarfile.TarError, OSError) as exc:
        raise JobError(f"cannot extract overlay '{tarball.name}': {exc}") from exc


class ApplyOverlayAction(Action):
    """Puts the lava overlay and tarball overlays into each image that asks for them.

    A ``cpio.newc`` ramdisk gets them appended as another archive; a filesystem or disk image
    (``format: ext4|raw|qcow2``, or a ``partition``) gets them written into its ext filesystem.
    """

    name = "apply-overlay"
    description = "apply overlays to ramdisk images"
    summary = "apply overlays"
    section = "deploy"

    def __init__(self, images: list[ImageOverlays]) -> None:
        super().__init__()
        self.images = images

    def validate(self) -> None:
        for image in self.images:
            if image.overlays and image.format not in (None, "cpio.newc", *DISK_FORMATS):
                self.errors.append(
                    f"{image.label}: overlays go into cpio.newc, ext4, raw or qcow2 images, not '{image.format}'"
                )

    def run(self, ctx: JobContext) -> None:
        for image in self.images:
            trees = [(overlay.name, self._tree(ctx, image, overlay)) for overlay in image.overlays]
            trees = [(name, tree) for name, tree in trees if tree is not None]
            if not trees:
                continue
            if image.is_disk:
                write_trees_to_disk(ctx, image, trees)
                continue
            for name, tree in trees:
                append_tree_to_ramdisk(ctx.downloaded[image.label], tree)
                ctx.logger.info(f"{image.label}: overlay '{name}' added")

    @staticmethod
    def _tree(ctx: JobContext, image: ImageOverlays, overlay: TreeOverlay) -> Path | None:
        """The tree this overlay puts at the image's ``/``: the lava overlay, or a downloaded file or tarball."""
        if overlay.name == LAVA_OVERLAY.name:
            return ctx.overlay.root if ctx.overlay is not None else None
        tree = ctx.scratch() / f"overlay-{image.label}-{overlay.name}"
        target = inside(tree, overlay.path, f"images.{image.label}.overlays.{overlay.name}.path")
        target.mkdir(parents=True, exist_ok=True)
        source = ctx.downloaded[overlay.source]
        if overlay.format == "tar":
            extract_tarball(source, target)
        else:
            import shutil  # deferred: shutil imports bz2 and lzma, which `lava-run --validate` never needs

            shutil.copy(source, target / source.name)
        return tree


def write_trees_to_disk(ctx: JobContext, image: ImageOverlays, trees: list[tuple[str, Path]]) -> None:
    """Write each tree into the image's ext filesystem (the partition named, else the whole image)."""
    from lava_dispatcher import disk_image  # deferred: subprocess, only a run with disk images needs it

    path = ctx.downloaded[image.label]
    where = f"images.{image.label}.partition"
    with disk_image.with_raw_image(path) as raw:
        offset = disk_image.filesystem_offset(raw, image.partition, where)
        for name, tree in trees:
            disk_image.write_tree(raw, tree, offset)
            place = f"partition {image.partition}" if image.partition is not None else "its filesystem"
            ctx.logger.info(f"{image.label}: overlay '{name}' written into {place} (offset {offset})")
