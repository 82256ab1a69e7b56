"""``deploy: to: vemsd``: write an Arm Versatile Express board's firmware through its MCC's USB disk.

Juno and TC2 boards keep their firmware on the motherboard configuration controller
(MCC)'s flash, which the MCC shows to the worker as a USB mass-storage disk. The deploy
downloads the ``recovery_image`` (a zip, or a tar with ``archive: tar``), unpacks it, powers
the board on, stops the MCC's autorun at its ``Cmd>`` prompt, types ``usb_on``, waits for the
disk labelled ``usb_filesystem_label`` (device dictionary) to appear on the worker, replaces
its files with the image's, then types ``reboot``: the MCC writes the new firmware and
resets the board (``mcc_reset_msg``). The next boot block takes the console from there.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.exceptions import InfrastructureError, JobError, LAVATimeoutError
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.actions.deploy.download import DownloadRetry
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import DeployMethod
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

METHOD = "vemsd"
LABEL = "recovery_image"
BY_LABEL = Path("/dev/disk/by-label")
MCC_COMMAND_WAIT = 30.0  # the MCC answers a command within seconds; `reboot` writes the flash first


class MccSettings:
    """The MCC's prompts and messages (``actions.deploy.methods.vemsd.parameters``)."""

    def __init__(self, device: DeviceConfig) -> None:
        params = (device.deploy_methods().get(METHOD) or {}).get("parameters") or {}
        self.mcc_prompt = str(params.get("mcc_prompt") or "Cmd>")
        self.autorun_prompt = str(params.get("autorun_prompt") or "Press Enter to stop auto boot...")
        self.reset_message = str(params.get("mcc_reset_msg") or "")
        self.mount_wait = float(params.get("msd_mount_wait") or 15)
        self.disk_label = str(device.raw.get("usb_filesystem_label") or "")


def _unpack(archive: Path, dest: Path, kind: str) -> None:
    # deferred, as the codecs of download.py: `lava-run --validate` never unpacks
    import tarfile
    import zipfile

    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as files:
                files.extractall(dest)  # member names with .. or a leading / stay inside dest
        else:
            with tarfile.open(archive) as files:
                files.extractall(dest, filter="data")
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise JobError(f"{LABEL}: cannot unpack '{archive.name}' ({kind}): {exc}") from exc


class UnpackRecoveryImage(Action):
    name = "extract-vexpress-recovery-image"
    description = "unpack the recovery image into a folder"
    summary = "unpack the recovery image"
    section = "deploy"

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind  # "zip" or "tar"

    def run(self, ctx: JobContext) -> None:
        archive = ctx.downloaded[LABEL]
        folder = ctx.scratch() / "vemsd-recovery"
        _unpack(archive, folder, self.kind)
        archive.unlink()
        ctx.downloaded[LABEL] = folder
        ctx.logger.info(f"{LABEL}: {sum(1 for _ in folder.rglob('*'))} files and folders in {folder}")


class MccCommand(Action):
    """Wait for the MCC's prompt (after sending ``send``), or for the autorun message first."""

    section = "deploy"

    def __init__(self, settings: MccSettings, name: str, send: str | None, wait_for: str) -> None:
        super().__init__()
        self.settings = settings
        self.name = name
        self.summary = self.description = f"MCC: {send or 'stop autorun'}"
        self.send = send
        self.wait_for = wait_for

    def run(self, ctx: JobContext) -> None:
        console = ctx.connection
        if self.send is None:  # stop the autorun: any line does
            console.expect([self.settings.autorun_prompt], self.connection_wait(ctx), what="the MCC autorun prompt")
            console.sendline("")
        else:
            console.sendline(self.send)
        try:
            console.expect([self.wait_for], max(self.connection_wait(ctx), MCC_COMMAND_WAIT),
                           what=f"'{self.wait_for}' from the MCC")
        except LAVATimeoutError as exc:  # an MCC that does not answer is the lab's fault
            raise InfrastructureError(str(exc)) from exc


class WriteMassStorage(Action):
    name = "deploy-vexpress-recovery-image"
    description = "replace the files of the MCC's USB disk with the recovery image"
    summary = "write the recovery image to the MCC disk"
    section = "deploy"

    def __init__(self, settings: MccSettings) -> None:
        super().__init__()
        self.settings = settings

    def validate(self) -> None:
        if not self.settings.disk_label:
            self.errors.append("the device has no usb_filesystem_label (the label of its MCC's USB disk)")

    def _disk(self) -> Path:
        disk = BY_LABEL / self.settings.disk_label
        deadline = time.monotonic() + self.settings.mount_wait
        while not disk.exists():
            if time.monotonic() > deadline:
                raise InfrastructureError(f"the MCC's USB disk labelled '{self.settings.disk_label}' did not appear "
                                          f"on the worker within {self.settings.mount_wait:g} s of usb_on")
            time.sleep(0.5)
        return disk

    def run(self, ctx: JobContext) -> None:
        import shutil  # deferred: only a run copies files
        import subprocess  # deferred: a heavy import that `lava-run --validate` does not need

        disk = self._disk()
        mount_point = ctx.scratch() / "vemsd-mount"
        mount_point.mkdir(exist_ok=True)
        done = subprocess.run(["mount", str(disk), str(mount_point)], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise InfrastructureError(f"mount {disk}: {done.stderr.strip() or done.returncode}")
        try:
            for old in mount_point.iterdir():
                if old.is_dir():
                    shutil.rmtree(old)
                else:
                    old.unlink()
            shutil.copytree(ctx.downloaded[LABEL], mount_point, dirs_exist_ok=True)
            subprocess.run(["sync"], timeout=120)
        finally:
            done = subprocess.run(["umount", str(mount_point)], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise InfrastructureError(f"umount {mount_point}: {done.stderr.strip() or done.returncode}")
        ctx.logger.info(f"the recovery image is on the MCC disk '{self.settings.disk_label}'")


class VExpressMsdAction(Action):
    name = "vexpress-fw-deploy"
    description = "write the firmware of a Versatile Express board through its MCC's USB disk"
    summary = "VExpress FW deployment"
    section = "deploy"

    def __init__(self, device: DeviceConfig) -> None:
        super().__init__()
        self.device = device

    def validate(self) -> None:
        super().validate()
        block = self.parameters.get(LABEL) or {}
        if block.get("compression") not in ("zip", None) or (block.get("compression") is None
                                                              and block.get("archive") != "tar"):
            self.errors.append(f"{LABEL}: a zip (compression: zip) or a tar archive (archive: tar) of the "
                               "MCC disk's files")
        if not MccSettings(self.device).reset_message:
            self.errors.append("the device gives no mcc_reset_msg (actions.deploy.methods.vemsd.parameters)")

    def populate(self, parameters: dict[str, Any]) -> None:
        settings = MccSettings(self.device)
        block = dict(parameters.get(LABEL) or {})
        kind = "zip" if block.pop("compression", None) == "zip" else "tar"
        block.pop("archive", None)  # unpacked into a folder below, not by the download
        pipeline: Pipeline = self.new_pipeline()
        pipeline.add_action(DownloadRetry(LABEL, block), parameters)
        pipeline.add_action(UnpackRecoveryImage(kind), parameters)
        pipeline.add_action(ConnectDevice(self.device), parameters)
        pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(MccCommand(settings, "enter-vexpress-mcc", None, settings.mcc_prompt), parameters)
        pipeline.add_action(MccCommand(settings, "enable-vexpress-usbmsd", "usb_on", settings.mcc_prompt), parameters)
        pipeline.add_action(WriteMassStorage(settings), parameters)
        pipeline.add_action(MccCommand(settings, "vexpress-mcc-reboot", "reboot", settings.reset_message), parameters)


class VemsdDeploy(DeployMethod):
    name = METHOD
    schema = DEPLOY_TARGETS[METHOD]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return VExpressMsdAction(device)
