"""The test overlay on a disk of its own, for QEMU jobs whose images cannot carry it.

A disk image the dispatcher knows nothing about (no ``overlays: lava``, no ramdisk) is left
untouched: the overlay goes into a small ext2 filesystem (``mke2fs -d``, no mounting), given to QEMU
as one more drive. Once the board has a shell, the test shell mounts it at the results directory by
its filesystem UUID, so the board needs ext2 support, as with the reference's guest disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_common.exceptions import JobError
from lava_dispatcher.action import Action
from lava_dispatcher.device import DeviceConfig

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

DEFAULT_SIZE_MB = 512
DEFAULT_DRIVE_ID = "lavatest"


def guest_parameters(device: DeviceConfig) -> dict[str, Any]:
    """``actions.deploy.methods.image.parameters.guest`` of the device: size (MiB), interface, driveid."""
    deploy = (device.raw.get("actions") or {}).get("deploy") or {}
    image = (deploy.get("methods") or {}).get("image") or {}
    guest = (image.get("parameters") or {}).get("guest") if isinstance(image, dict) else None
    return guest if isinstance(guest, dict) else {}


class ApplyOverlayGuest(Action):
    name = "apply-overlay-guest"
    description = "prepare a qcow2 drive containing the overlay"
    summary = "build a guest filesystem with the overlay"
    section = "deploy"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        guest = guest_parameters(device)
        self.size_mb = guest.get("size", DEFAULT_SIZE_MB)
        self.interface = str(guest.get("interface") or "ide")
        self.drive_id = str(guest.get("driveid") or DEFAULT_DRIVE_ID)

    def validate(self) -> None:
        if not isinstance(self.size_mb, int) or not 1 <= self.size_mb <= 65536:
            self.errors.append(f"the device's guest disk size must be 1..65536 MiB, not {self.size_mb!r}")
        for what, value in (("interface", self.interface), ("driveid", self.drive_id)):
            if not value.replace("-", "").replace("_", "").isalnum():
                self.errors.append(f"the device's guest disk {what} '{value}' must be a plain name")

    def run(self, ctx: JobContext) -> None:
        from lava_dispatcher import disk_image  # deferred: subprocess, only a run needs it

        overlay = ctx.overlay
        if overlay is None:
            raise JobError("the overlay disk needs the test overlay (lava-overlay did not run)")
        content = overlay.root / overlay.results_dir.strip("/")
        raw = ctx.scratch() / "lava-guest.img"
        guest = ctx.scratch() / "lava-guest.qcow2"
        fs_uuid = disk_image.make_filesystem(content, raw, int(self.size_mb), "ext2")
        disk_image.convert(raw, guest, "raw", "qcow2")
        raw.unlink()
        mountpoint = overlay.results_dir
        overlay.boot_args = [
            "-drive", f"format=qcow2,file={guest},media=disk,if={self.interface},id={self.drive_id}",
        ]
        overlay.board_commands = [
            f"mkdir -p {mountpoint}",
            f"mount -t ext2 UUID={fs_uuid} {mountpoint}",
            f"ls -la {mountpoint}/bin/lava-test-runner",
        ]
        ctx.logger.info(f"overlay disk {guest.name} ({self.size_mb} MiB, UUID {fs_uuid}) on {self.interface}")
