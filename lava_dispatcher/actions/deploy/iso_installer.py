"""``deploy: to: iso-installer`` (QEMU): an installer CD, its preseed and an empty disk to install onto.

The deploy downloads ``images.iso`` and ``images.preseed``, pulls the installer's kernel and
initrd (``iso.kernel``, ``iso.initrd``: paths inside the ISO) out of the image without mounting it
(``xorriso -osirrox``), and creates the empty raw disk of ``iso.installation_size``. The test
overlay goes onto a disk of its own (``apply-overlay-guest``), which the installed system mounts
before the first test shell, as the reference does; ``transfer_overlay`` on the boot fetches it
over HTTP instead. ``boot: method: qemu-iso`` runs the installer, then boots the installed disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.guest_overlay import ApplyOverlayGuest
from lava_dispatcher.actions.deploy.overlay import OverlayAction
from lava_dispatcher.actions.deploy.tmpfs import (
    QemuDeployMethod,
    image_arg_errors,
    substitute_image_args,
    transfers_overlay,
)
from lava_dispatcher.context import IsoInstallation
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

MAX_INSTALLATION_MB = 8 * 1024  # an installation disk larger than this is a mistake in the job
INSTALLER_OS = "debian_installer"  # the only installer whose kernel command line we know
ISO9660_MAGIC_OFFSET = 16 * 2048 + 1  # "CD001" in the primary volume descriptor
UNIT_MB = {"M": 1, "G": 1024}


def installation_bytes(value: Any) -> int:
    """``installation_size`` ("2G", "800M") in bytes; ValueError says what is wrong."""
    number, unit = (value[:-1], value[-1:]) if isinstance(value, str) else ("", "")
    if not (number.isdigit() and number.isascii() and int(number) > 0 and unit in UNIT_MB):
        raise ValueError(f"iso.installation_size '{value}' must be a number of megabytes or gigabytes, e.g. 800M or 2G")
    megabytes = int(number) * UNIT_MB[unit]
    if megabytes > MAX_INSTALLATION_MB:
        raise ValueError(f"iso.installation_size '{value}' is more than the {MAX_INSTALLATION_MB} MiB allowed")
    return megabytes * 1024 * 1024


class IsoEmptyImage(Action):
    name = "prepare-empty-image"
    description = "create empty image of specified size"
    summary = "create destination image"
    section = "deploy"

    def validate(self) -> None:
        try:
            installation_bytes((self.parameters.get("iso") or {}).get("installation_size"))
        except ValueError as exc:
            self.errors.append(str(exc))

    def run(self, ctx: JobContext) -> None:
        size = installation_bytes(self.parameters["iso"]["installation_size"])
        disk = ctx.scratch() / "installation" / "hd.img"
        disk.parent.mkdir(parents=True, exist_ok=True)
        with disk.open("wb") as handle:
            handle.truncate(size)  # sparse: only what the installer writes takes room
        ctx.installation = IsoInstallation(disk=disk, console=str(self.parameters["iso"].get("console") or ""))
        ctx.logger.info(f"empty installation disk {disk.name}: {size} bytes")
        self.results = {"size": size}


def extract_from_iso(iso: Path, inside: dict[str, str], folder: Path) -> dict[str, Path]:
    """Copy files out of an ISO 9660 image (no mounting): {key: path in the ISO} -> {key: local file}."""
    import subprocess  # deferred: only a run needs it, not `lava-run --validate`

    with iso.open("rb") as handle:
        handle.seek(ISO9660_MAGIC_OFFSET)
        if handle.read(5) != b"CD001":
            raise JobError(f"images.iso: '{iso.name}' is not an ISO 9660 image")
    folder.mkdir(parents=True, exist_ok=True)
    found = {key: folder / Path(path).name for key, path in inside.items()}
    for key, path in inside.items():
        command = ["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract", path, str(found[key])]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        except FileNotFoundError as exc:
            raise InfrastructureError("iso-installer needs the 'xorriso' program on the worker") from exc
        if proc.returncode != 0 or not found[key].is_file():
            failures = [line for line in proc.stderr.splitlines() if "FAILURE" in line]
            why = "no such file" if "No such file" in proc.stderr else (failures or ["xorriso failed"])[0].strip()
            raise JobError(f"iso.{key}: '{path}' cannot be taken out of the ISO '{iso.name}': {why}")
    return found


class IsoPullInstaller(Action):
    name = "pull-installer-files"
    description = "pull kernel and initrd out of iso"
    summary = "copy files out of installer iso"
    section = "deploy"
    KEYS = ("kernel", "initrd")

    def validate(self) -> None:
        iso = self.parameters.get("iso") or {}
        paths = [str(iso.get(key, "")) for key in self.KEYS]
        for key, path in zip(self.KEYS, paths, strict=True):
            if not path.startswith("/"):
                self.errors.append(f"iso.{key}: '{path}' must be an absolute path inside the ISO (start with /)")
        if len(set(paths)) != len(paths) or len({Path(p).name for p in paths}) != len(paths):
            self.errors.append("iso.kernel and iso.initrd must be different files with different names")

    def run(self, ctx: JobContext) -> None:
        iso = ctx.downloaded.get("iso")
        if iso is None or ctx.installation is None:
            raise JobError("the installer ISO was not downloaded")
        inside = {key: str(self.parameters["iso"][key]) for key in self.KEYS}
        found = extract_from_iso(iso, inside, ctx.scratch() / "installation" / "installer")
        ctx.installation.kernel, ctx.installation.initrd = found["kernel"], found["initrd"]
        for key, path in found.items():
            ctx.logger.info(f"{inside[key]} from {iso.name}: {path.stat().st_size} bytes")
        self.results = {"files": list(inside.values())}


class DeployIsoAction(Action):
    name = "deploy-iso-installer"
    description = "setup deployment for emulated installer"
    summary = "pull kernel and initrd out of iso"
    section = "deploy"

    def __init__(self, plan: JobPlan, device: DeviceConfig) -> None:
        super().__init__()
        self.plan = plan
        self.device = device

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        images = parameters.get("images") or {}
        pipeline.add_action(IsoEmptyImage(), parameters)
        for label in ("preseed", "iso"):
            block = images.get(label)
            pipeline.add_action(DownloadRetry(label, block if isinstance(block, dict) else {}), parameters)
        pipeline.add_action(IsoPullInstaller(), parameters)
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
            if not transfers_overlay(self.plan, self.namespace):
                pipeline.add_action(ApplyOverlayGuest(self.device), parameters)

    def validate(self) -> None:
        super().validate()
        images = self.parameters.get("images") or {}
        for label in ("iso", "preseed"):
            if not isinstance(images.get(label), dict):
                self.errors.append(f"images.{label} is required (the installer CD and its preseed file)")
        extra = sorted(set(images) - {"iso", "preseed"})
        if extra:
            self.errors.append(f"images: only 'iso' and 'preseed' are used by iso-installer, not {', '.join(extra)}")
        if isinstance(images.get("iso"), dict) and "image_arg" not in images["iso"]:
            self.errors.append("images.iso.image_arg is required: how QEMU gets the ISO, e.g. "
                               "'-drive file={iso},index=2,media=cdrom,readonly'")
        if isinstance(images.get("preseed"), dict) and "image_arg" in images["preseed"]:
            self.errors.append("images.preseed.image_arg: the preseed is served over HTTP, not given to QEMU")
        self.errors.extend(image_arg_errors(images))
        os_name = self.parameters.get("os", INSTALLER_OS)
        if os_name != INSTALLER_OS:
            self.errors.append(f"os '{os_name}': iso-installer runs debian-installer (os: {INSTALLER_OS}) only")

    def run(self, ctx: JobContext) -> None:
        super().run(ctx)
        # the installer's QEMU gets the ISO through images.iso.image_arg
        ctx.boot_image_args = substitute_image_args(self.parameters["images"], ctx.downloaded)


class IsoInstallerDeploy(QemuDeployMethod):
    name = "iso-installer"
    schema = DEPLOY_TARGETS["iso-installer"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return DeployIsoAction(plan, device)
