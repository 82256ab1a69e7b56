"""``apply-overlay: true`` on a fastboot image: put the test overlay into what the phone will run.

An Android boot image carries it in its ramdisk; a cpio ramdisk gets it
appended; an ext4 image (sparse or not) gets its files written with
``debugfs`` (e2fsprogs), a sparse one being expanded with ``simg2img`` first
and packed again with ``img2simg``, so nothing is mounted and no root is needed.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from lava_common.exceptions import InfrastructureError, JobError
from lava_dispatcher.action import Action
from lava_dispatcher.actions.test.overlay_bridge import append_tree_to_ramdisk
from lava_dispatcher.android_bootimg import is_boot_image, read_ramdisk, replace_ramdisk
from lava_dispatcher.fastboot import run_tool

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

SPARSE_MAGIC = b"\x3a\xff\x26\xed"
GZIP_MAGIC = b"\x1f\x8b"
EXT4_MAGIC_OFFSET, EXT4_MAGIC = 1080, b"\x53\xef"


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _tool(ctx: JobContext, argv: list[str], what: str) -> None:
    if shutil.which(argv[0]) is None:
        raise InfrastructureError(f"{what}: '{argv[0]}' is not installed on the worker")
    code, output = run_tool(ctx, argv, 600.0)
    if code != 0:
        raise JobError(f"{what}: '{argv[0]}' failed: {output.strip()[-300:] or 'no output'}")


def debugfs_script(tree: Path) -> str:
    """debugfs commands that copy ``tree`` into the root of an ext4 image, keeping modes."""
    lines = []
    for path in sorted(tree.rglob("*")):
        target = "/" + path.relative_to(tree).as_posix()
        if any(c in target for c in '"\n\r'):
            raise JobError(f"overlay file name {target!r} cannot be written into an ext4 image")
        mode = path.lstat().st_mode
        if path.is_symlink():
            lines.append(f'symlink "{target}" "{path.readlink()}"')
        elif path.is_dir():
            lines.append(f'mkdir "{target}"')
        else:
            lines += [f'rm "{target}"', f'write "{path}" "{target}"']
        if not path.is_symlink():
            kind = 0o040000 if path.is_dir() else 0o100000
            lines.append(f'sif "{target}" mode 0{kind | (mode & 0o7777):o}')
    return "\n".join(lines) + "\n"


class ApplyImageOverlay(Action):
    name = "apply-image-overlay"
    description = "put the test overlay into the images marked apply-overlay"
    summary = "apply the overlay to flashed images"
    section = "deploy"

    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels

    def run(self, ctx: JobContext) -> None:
        if ctx.overlay is None:
            return
        for label in self.labels:
            image = ctx.downloaded[label]
            where = f"images.{label}"
            if is_boot_image(image):
                ramdisk = ctx.scratch() / f"{label}-ramdisk"
                ramdisk.write_bytes(read_ramdisk(image, where))
                append_tree_to_ramdisk(ramdisk, ctx.overlay.root)
                replace_ramdisk(image, ramdisk.read_bytes(), where)
                ctx.logger.info(f"{label}: lava overlay added to the boot image's ramdisk")
            elif _head(image, 4) == SPARSE_MAGIC:
                raw = image.with_name(image.name + ".raw")
                _tool(ctx, ["simg2img", str(image), str(raw)], where)
                self._ext4(ctx, raw, where)
                _tool(ctx, ["img2simg", str(raw), str(image)], where)
                raw.unlink()
                ctx.logger.info(f"{label}: lava overlay written into the sparse ext4 image")
            elif _head(image, EXT4_MAGIC_OFFSET + 2)[EXT4_MAGIC_OFFSET:] == EXT4_MAGIC:
                self._ext4(ctx, image, where)
                ctx.logger.info(f"{label}: lava overlay written into the ext4 image")
            elif _head(image, 6) in (b"070701", b"070702") or _head(image, 2) == GZIP_MAGIC:
                append_tree_to_ramdisk(image, ctx.overlay.root)
                ctx.logger.info(f"{label}: lava overlay appended to the ramdisk")
            else:
                raise JobError(f"{where}: apply-overlay needs a boot image, a cpio ramdisk or an ext4 image "
                               "(sparse or not); this image is none of them")

    def _ext4(self, ctx: JobContext, image: Path, where: str) -> None:
        script = ctx.scratch() / "overlay.debugfs"
        script.write_text(debugfs_script(ctx.overlay.root))
        _tool(ctx, ["debugfs", "-w", "-f", str(script), str(image)], where)
