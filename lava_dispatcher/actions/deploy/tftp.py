"""``deploy: to: tftp``: kernel, ramdisk, dtb and modules into a per-job TFTP directory.

The directory lives under the dispatcher's TFTP root; the bootloader is
given paths relative to that root.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.constants import TFTP_SIZE_LIMIT
from lava_common.exceptions import JobError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.nfs import NFS_ROOTFS, ApplyNfsOverlay, PersistentNfs, nfs_root_actions
from lava_dispatcher.actions.deploy.overlay import (
    LAVA_OVERLAY,
    ApplyOverlayAction,
    ImageOverlays,
    OverlayAction,
    TreeOverlay,
)
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

ARTEFACTS = ("kernel", "ramdisk", "dtb", "tee", "dtbo")


class PrepareTftpDir(Action):
    name = "prepare-tftp-dir"
    description = "create the per-job directory under the TFTP root"
    summary = "per-job TFTP directory"
    section = "deploy"

    def run(self, ctx: JobContext) -> None:
        import tempfile  # deferred: with random, a heavy import that `lava-run --validate` does not need

        root = ctx.dispatcher.tftp_root
        try:
            root.mkdir(parents=True, exist_ok=True)
            ctx.tftp_dir = Path(tempfile.mkdtemp(prefix=f"{ctx.dispatcher.prefix}{ctx.job_id}-", dir=root))
        except OSError as exc:
            raise JobError(f"cannot create a TFTP directory under '{root}': {exc.strerror}") from exc
        ctx.logger.info(f"TFTP directory: {ctx.tftp_dir}")


class CheckTftpSizes(Action):
    name = "check-tftp-sizes"
    description = "refuse files the TFTP protocol cannot serve"
    summary = "check TFTP file sizes"
    section = "deploy"

    def run(self, ctx: JobContext) -> None:
        for label in ARTEFACTS:
            path = ctx.downloaded.get(label)
            if path is not None and path.stat().st_size > TFTP_SIZE_LIMIT:
                raise JobError(f"{label}: {path.stat().st_size} bytes is over the TFTP limit of {TFTP_SIZE_LIMIT}")


class PublishTftpFiles(Action):
    """The worker's umask (027) keeps job files private; the TFTP server runs as another user.

    What lies here is served to the board without authentication anyway.
    """

    name = "publish-tftp-files"
    description = "make the job's TFTP files readable by the TFTP server"
    summary = "TFTP file modes"
    section = "deploy"

    def run(self, ctx: JobContext) -> None:
        if ctx.tftp_dir is None:
            return
        for path in (ctx.tftp_dir, *ctx.tftp_dir.rglob("*")):
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)


class TftpAction(Action):
    name = "tftp-deploy"
    description = "download files and deploy using tftp"
    summary = "tftp deployment"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        pipeline.add_action(PrepareTftpDir(), parameters)
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        for label in (*ARTEFACTS, "modules"):
            block = parameters.get(label)
            if isinstance(block, dict):
                pipeline.add_action(DownloadRetry(label, block, dest_dir="tftp"), parameters)
        if isinstance(parameters.get(NFS_ROOTFS), dict):
            # the board mounts this root: the test overlay and modules go there, not into the ramdisk
            root = parameters[NFS_ROOTFS]
            for action in (*nfs_root_actions(root), ApplyNfsOverlay(root)):
                pipeline.add_action(action, parameters)
        elif isinstance(parameters.get("persistent_nfs"), dict):
            pipeline.add_action(PersistentNfs(parameters["persistent_nfs"]), parameters)
        ramdisk_overlays = self._ramdisk_overlays(parameters)
        if ramdisk_overlays:
            pipeline.add_action(ApplyOverlayAction([ramdisk_overlays]), parameters)
        pipeline.add_action(CheckTftpSizes(), parameters)
        pipeline.add_action(PublishTftpFiles(), parameters)

    def _ramdisk_overlays(self, parameters: dict[str, Any]) -> ImageOverlays | None:
        if not isinstance(parameters.get("ramdisk"), dict) or self._nfs_root(parameters):
            return None
        overlays: list[TreeOverlay] = []
        if self.plan.needs_overlay:
            overlays.append(LAVA_OVERLAY)
        if isinstance(parameters.get("modules"), dict):
            # modules are a tarball of /lib/modules/...: unpack it over the ramdisk's root
            overlays.append(TreeOverlay("modules", source="modules"))
        return ImageOverlays("ramdisk", "cpio.newc", tuple(overlays)) if overlays else None

    @staticmethod
    def _nfs_root(parameters: dict[str, Any]) -> bool:
        return any(isinstance(parameters.get(key), dict) for key in (NFS_ROOTFS, "persistent_nfs"))

    @property
    def kernel_type(self) -> str:
        kernel = self.parameters.get("kernel")
        return str(kernel.get("type", "image")).lower() if isinstance(kernel, dict) else "image"

    def run(self, ctx: JobContext) -> None:
        ctx.kernel_type = self.kernel_type
        super().run(ctx)

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.parameters.get("kernel"), dict):
            self.errors.append("'kernel' (with a url) is required for a tftp deploy")
        carriers = ("ramdisk", NFS_ROOTFS, "persistent_nfs")
        if self.plan.needs_overlay and not any(isinstance(self.parameters.get(c), dict) for c in carriers):
            self.errors.append("the test shell needs a 'ramdisk', an 'nfsrootfs' or a 'persistent_nfs' to carry its overlay")


class TftpDeploy(DeployMethod):
    name = "tftp"
    schema = DEPLOY_TARGETS["tftp"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return TftpAction(plan)
