"""``boot: method: qemu-nfs``: QEMU boots the deployed kernel, which mounts its root from the job's NFS folder.

The device's ``boot.methods.qemu-nfs.parameters`` give the command line and
``append`` (``console``, ``root``, ``nfsrootargs`` with ``{NFS_SERVER_IP}``
and ``{NFSROOTFS}``, ``ipargs``), which becomes QEMU's ``-append``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_common.exceptions import JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.bootloader import network_root_values, substitute
from lava_dispatcher.actions.boot.qemu import BootQemuRetry, CallQemuAction
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext


class CallQemuNfsAction(CallQemuAction):
    name = "execute-qemu-nfs"
    description = "call qemu to boot a kernel whose root is on NFS"
    summary = "execute qemu with an NFS root"
    method = "qemu-nfs"

    def validate(self) -> None:
        super().validate()
        params = (self.device.boot_methods().get(self.method) or {}).get("parameters") or {}
        if not isinstance(params.get("append"), dict):
            self.errors.append(f"the device's boot.methods.{self.method}.parameters.append is missing")

    def extra_args(self, ctx: JobContext) -> list[str]:
        if ctx.nfs_export is None:
            raise JobError("qemu-nfs needs a deploy to nfs with an nfsrootfs before it")
        append = ((ctx.device.boot_methods().get(self.method) or {}).get("parameters") or {}).get("append") or {}
        parts = [f"console={append['console']}"] if append.get("console") else []
        parts += [f"root={append['root']}"] if append.get("root") else []
        parts += [str(append[key]) for key in ("nfsrootargs", "ipargs") if append.get(key)]
        kept = substitute(parts, network_root_values(ctx))
        return ["-append", " ".join(kept)]


class BootQemuNfsRetry(BootQemuRetry):
    name = "boot-qemu-nfs-retry"
    call = CallQemuNfsAction


class QemuNfsBoot(BootMethod):
    name = "qemu-nfs"
    schema = BOOT_METHODS["qemu-nfs"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return BootQemuNfsRetry(device, retry_count(device, block))
