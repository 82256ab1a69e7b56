"""``format: qcow2`` on an image QEMU gets: converted to raw once downloaded, as the reference does.

The reference's sample jobs hand such an image to QEMU as ``-drive format=raw,file={rootfs}``
(kvm-qcow2.yaml): QEMU reads what it is told is raw as raw, so a qcow2 container there boots
nothing. An image whose own ``image_arg`` tells QEMU ``format=qcow2`` stays qcow2: converting it
would hand QEMU a raw file labelled qcow2 (the reference converts anyway, and such a job fails there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_dispatcher.action import Action

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


def converts_to_raw(block: Any) -> bool:
    """Whether an ``images`` entry is a qcow2 image QEMU must get as raw."""
    if not isinstance(block, dict) or block.get("format") != "qcow2":
        return False
    return "format=qcow2" not in str(block.get("image_arg", ""))


class Qcow2ToRaw(Action):
    name = "qcow2-convert"
    description = "convert a qcow2 image to raw with qemu-img"
    summary = "qcow2 to raw"
    section = "deploy"

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher import disk_image  # deferred: subprocess, only a run needs it

        source = ctx.downloaded.get(self.label)
        if source is None or not source.is_file():
            raise JobError(f"images.{self.label}: format qcow2, but no downloaded file to convert")
        raw = source.with_name(source.name.removesuffix(".qcow2") + ".img")
        disk_image.convert(source, raw, "qcow2", "raw")
        source.unlink()
        ctx.downloaded[self.label] = raw
        ctx.logger.info(f"{self.label}: qcow2 converted to raw -> {raw}")
