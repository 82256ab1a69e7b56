"""``deploy: to: nfs`` and the NFS root of ``to: tftp``: a root filesystem served to the board over NFS.

The worker's NFS server exports one folder (``nfs_root`` in dispatcher.yaml,
the dispatcher's download dir by default, as the reference's exports file
does); each job extracts its root filesystem into a fresh folder under it,
applies the test overlay there, and removes the folder when it ends. Nothing
is reloaded on the server: a board mounts ``<server>:<export path>/<job folder>``.

dispatcher.yaml keys (doc/methods-nfs.md):

- ``nfs_root``: the exported folder (default: ``dispatcher_download_dir``)
- ``nfs_export_path``: the path boards mount that folder as, when the server
  publishes it under another name (a ganesha ``Pseudo`` path); default ``nfs_root``
- ``dispatcher_nfs_ip``: ``{NFS_SERVER_IP}``; default ``dispatcher_ip``
- ``nfs_server_check``: ``host:port`` the worker connects to before the boot,
  so that a server that is down ends the job at once, naming it
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError
from lava_common.safe_paths import inside
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.bootloader import dispatcher_ip
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.actions.deploy.overlay import OverlayAction
from lava_dispatcher.actions.deploy.qcow2_convert import Qcow2ToRaw, converts_to_raw
from lava_dispatcher.actions.deploy.tmpfs import image_arg_errors, substitute_image_args
from lava_dispatcher.context import NfsExport
from lava_dispatcher.device import DeviceConfig, DispatcherConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

NFS_ROOTFS = "nfsrootfs"
# what the bootloader form of ``to: nfs`` downloads (``images:`` lists its own)
ARTEFACTS = ("kernel", "ramdisk", "initrd", "dtb", "modules", NFS_ROOTFS, "preseed", "tee")
# what the board prints when its NFS root cannot be mounted: the kernel's own
# messages, and those of an initramfs that mounts the root (share/test-images/build-netroot.sh)
NETROOT_FAILURE = r"netroot: failed: [^\r\n]*"
NFS_ROOT_FAILURES = (
    r"VFS: Unable to mount root fs via NFS[^\r\n]*",
    r"nfs: server [^\r\n]* not responding",
    NETROOT_FAILURE,
)
CHECK_TIMEOUT = 5.0


def nfs_root(dispatcher: DispatcherConfig) -> Path:
    return Path(dispatcher.raw.get("nfs_root") or dispatcher.download_dir)


def nfs_server_ip(ctx: JobContext) -> str:
    return str(ctx.dispatcher.raw.get("dispatcher_nfs_ip") or dispatcher_ip(ctx))


def export_path(ctx: JobContext, folder: Path) -> str:
    """``{NFSROOTFS}``: the folder as the board mounts it."""
    root = nfs_root(ctx.dispatcher)
    published = ctx.dispatcher.raw.get("nfs_export_path")
    if not published:
        return str(folder)
    return str(PurePosixPath(str(published)) / folder.relative_to(root.resolve()))


def check_nfs_server(ctx: JobContext) -> None:
    """Connect to ``nfs_server_check``: a server that is down must not cost a boot timeout."""
    import socket  # deferred: a heavy import that `lava-run --validate` does not need

    address = ctx.dispatcher.raw.get("nfs_server_check")
    if not address:
        return
    host, _, port = str(address).rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=CHECK_TIMEOUT):
            pass
    except (OSError, ValueError) as exc:
        raise InfrastructureError(
            f"the NFS server {address} (nfs_server_check) does not answer: {exc}; "
            f"boards would mount from {nfs_server_ip(ctx)}"
        ) from exc


def set_nfs_root(ctx: JobContext, export: NfsExport) -> None:
    ctx.nfs_export = export
    ctx.boot_failures = list(NFS_ROOT_FAILURES)
    ctx.network_root = f"NFS root {export.server}:{export.path}"


def run_tar(argv: list[str], what: str) -> None:
    import subprocess  # deferred: a heavy import that `lava-run --validate` does not need

    # GNU tar creates links that point outside the tree only after every file
    # (delayed links), so an archive cannot write through a link it planted.
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise JobError(f"{what}: tar failed: {proc.stderr.strip()[-500:]}")


class PrepareNfsDir(Action):
    name = "prepare-nfs-dir"
    description = "create the job's folder under the exported NFS root"
    summary = "per-job NFS folder"
    section = "deploy"

    def run(self, ctx: JobContext) -> None:
        import tempfile  # deferred: with random, a heavy import that `lava-run --validate` does not need

        check_nfs_server(ctx)
        root = nfs_root(ctx.dispatcher)
        try:
            root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=f"{ctx.dispatcher.prefix}{ctx.job_id}-nfs-", dir=root)).resolve()
        except OSError as exc:
            raise InfrastructureError(f"cannot create the job's NFS folder under '{root}': {exc.strerror}") from exc
        ctx.nfs_dirs.append(folder)  # one per namespace that deploys an NFS root; all go with the job
        folder.chmod(0o755)  # the NFS server may run as another user
        ctx.logger.info(f"NFS folder: {folder}")


class ExtractNfsRootfs(Action):
    name = "extract-nfsrootfs"
    description = "unpack the root filesystem into the job's NFS folder"
    summary = "unpack the NFS root filesystem"
    section = "deploy"

    def __init__(self, label: str, block: dict[str, Any]) -> None:
        super().__init__()
        self.label = label
        self.block = block

    def validate(self) -> None:
        prefix = str(self.block.get("prefix") or "")
        if PurePosixPath(prefix).is_absolute() or ".." in PurePosixPath(prefix).parts:
            self.errors.append(f"{self.label}.prefix: '{prefix}' must be a relative path inside the archive")

    def run(self, ctx: JobContext) -> None:
        if not ctx.nfs_dirs:
            raise JobError("no NFS folder to extract into")
        folder = ctx.nfs_dirs[-1]  # this namespace's: PrepareNfsDir just made it
        archive = ctx.downloaded[self.label]
        staging = folder / ".rootfs"
        staging.mkdir()
        run_tar(["tar", "-x", "--numeric-owner", "-f", str(archive), "-C", str(staging)], f"{self.label} '{archive.name}'")
        top = inside(staging, str(self.block.get("prefix") or ""), f"{self.label}.prefix")
        if not top.is_dir():
            raise JobError(f"{self.label}.prefix: '{self.block.get('prefix')}' is not a folder of the archive")
        rootfs = folder / "rootfs"
        top.rename(rootfs)
        shutil.rmtree(staging, ignore_errors=True)
        archive.unlink()  # a root filesystem is large: keep one copy of it
        ctx.nfs_rootfs = rootfs
        set_nfs_root(ctx, NfsExport(nfs_server_ip(ctx), export_path(ctx, rootfs)))
        ctx.logger.info(f"{self.label}: extracted into {rootfs}, the board mounts its {ctx.network_root}")


class ApplyNfsOverlay(Action):
    """The test overlay, and a ``modules`` tarball, unpacked into the extracted root filesystem.

    The root's block may say ``install_overlay: false`` / ``install_modules: false`` (tests already in it).
    """

    name = "apply-overlay-nfs"
    description = "unpack the test overlay and modules into the NFS root"
    summary = "overlay the NFS root"
    section = "deploy"

    def __init__(self, block: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.block = block or {}

    def run(self, ctx: JobContext) -> None:
        rootfs = ctx.nfs_rootfs
        if rootfs is None:
            raise JobError("no NFS root filesystem to overlay")
        # an existing link in the root filesystem (a symlinked /lava-42...) is replaced, never followed
        extract = ["tar", "-x", "--numeric-owner", "--no-overwrite-dir", "-C", str(rootfs), "-f"]
        if "modules" in ctx.downloaded and self.block.get("install_modules") is not False:
            run_tar([*extract, str(ctx.downloaded["modules"])], "modules")
            ctx.logger.info("modules unpacked into the NFS root")
        if ctx.overlay is not None and self.block.get("install_overlay") is not False:
            tarball = ctx.scratch() / "overlay-nfs.tar"
            run_tar(["tar", "-c", "--numeric-owner", "--owner=0", "--group=0", "-f", str(tarball),
                     "-C", str(ctx.overlay.root), "."], "the test overlay")
            run_tar([*extract, str(tarball)], "the test overlay")
            ctx.logger.info(f"lava overlay unpacked into the NFS root at {ctx.overlay.results_dir}")


class PersistentNfs(Action):
    """``persistent_nfs: {address: host:/path}``: a root the board mounts from a server this job does not manage.

    Nothing is extracted and nothing is removed afterwards. The test overlay
    is written only when the path is a folder below this worker's ``nfs_root``
    (the worker cannot mount NFS itself, and must not write anywhere a job
    names); otherwise the job says so and goes on, as the tests may be
    installed there already.
    """

    name = "persistent-nfs-overlay"
    description = "use a persistent NFS root and add the test overlay where the worker can"
    summary = "persistent NFS root"
    section = "deploy"

    def __init__(self, block: dict[str, Any]) -> None:
        super().__init__()
        self.block = block

    @property
    def address(self) -> tuple[str, str]:
        server, _, path = str(self.block.get("address", "")).partition(":")
        return server, path

    def validate(self) -> None:
        server, path = self.address
        if not server or not path.startswith("/"):
            self.errors.append(f"persistent_nfs.address: '{self.block.get('address')}' is not 'server:/absolute/path'")

    def run(self, ctx: JobContext) -> None:
        server, path = self.address
        set_nfs_root(ctx, NfsExport(server, path))
        if ctx.overlay is None or self.block.get("install_overlay") is False:
            return
        # only below the worker's own export: a job must not make the worker write into /etc or another tree
        root = nfs_root(ctx.dispatcher).resolve()
        folder = Path(path).resolve()
        if folder == root or not folder.is_relative_to(root) or not folder.is_dir():
            ctx.logger.warning(f"persistent_nfs: {path} is not a folder under this worker's nfs_root ({root}): "
                               "the test overlay is not installed")
            return
        ctx.nfs_rootfs = folder
        ApplyNfsOverlay(self.block).run(ctx)


def nfs_root_actions(block: dict[str, Any]) -> list[Action]:
    """Download, unpack and overlay ``nfsrootfs``: the steps ``to: nfs`` and ``to: tftp`` share.

    The overlay step comes after every download (``modules`` may follow ``nfsrootfs``): callers add it last.
    """
    return [PrepareNfsDir(), DownloadRetry(NFS_ROOTFS, block), ExtractNfsRootfs(NFS_ROOTFS, block)]


class NfsAction(Action):
    """``images:`` (QEMU, with ``image_arg``s) or the bootloader form (``kernel``, ``nfsrootfs``, ...)."""

    name = "nfs-deploy"
    description = "deploy a root filesystem over NFS"
    summary = "NFS deployment"
    section = "deploy"

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def _artefacts(self, parameters: dict[str, Any]) -> dict[str, Any]:
        images = parameters.get("images")
        if isinstance(images, dict):
            return {k: v for k, v in images.items() if isinstance(v, dict)}
        return {k: parameters[k] for k in ARTEFACTS if isinstance(parameters.get(k), dict)}

    def populate(self, parameters: dict[str, Any]) -> None:
        pipeline = self.new_pipeline()
        if self.plan.needs_overlay:
            pipeline.add_action(OverlayAction(self.plan), parameters)
        for label, block in self._artefacts(parameters).items():
            if label == NFS_ROOTFS:
                for action in nfs_root_actions(block):
                    pipeline.add_action(action, parameters)
            else:
                pipeline.add_action(DownloadRetry(label, block), parameters)
                if converts_to_raw(block):
                    pipeline.add_action(Qcow2ToRaw(label), parameters)
        if isinstance(parameters.get("persistent_nfs"), dict):
            pipeline.add_action(PersistentNfs(parameters["persistent_nfs"]), parameters)
        else:
            pipeline.add_action(ApplyNfsOverlay(self._artefacts(parameters).get(NFS_ROOTFS)), parameters)

    def validate(self) -> None:
        super().validate()
        artefacts = self._artefacts(self.parameters)
        if NFS_ROOTFS not in artefacts and not isinstance(self.parameters.get("persistent_nfs"), dict):
            self.errors.append(f"'{NFS_ROOTFS}' (a root filesystem tarball with a url) or 'persistent_nfs' is required")
        images = self.parameters.get("images")
        if isinstance(images, dict):
            self.errors.extend(image_arg_errors({k: v for k, v in images.items() if k != NFS_ROOTFS}))

    def run(self, ctx: JobContext) -> None:
        super().run(ctx)
        images = self.parameters.get("images")
        if isinstance(images, dict):
            # the root filesystem is mounted by the kernel, not given to QEMU: qemu-nfs puts it on -append
            ctx.boot_image_args = substitute_image_args(
                {k: v for k, v in images.items() if k != NFS_ROOTFS}, ctx.downloaded
            )


class NfsDeploy(DeployMethod):
    name = "nfs"
    schema = DEPLOY_TARGETS["nfs"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return NfsAction(plan)
