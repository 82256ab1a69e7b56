"""``boot: method: monitor``: QEMU runs the deployed images and nothing waits for a shell.

For images with no login (firmware test suites, an RTOS): a later ``test: monitors`` block reads
what the board prints. QEMU's command line is the device's ``qemu`` boot method's, as in the
reference, which lists no ``monitor`` entry in its QEMU device types.
"""

from __future__ import annotations

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action
from lava_dispatcher.actions.boot.qemu import BootQemuRetry
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, qemu_method_accepts, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock


class QemuMonitorBoot(BootMethod):
    name = "monitor"
    schema = BOOT_METHODS["monitor"]

    @classmethod
    def accepts(cls, device: DeviceConfig, block: PlanBlock) -> tuple[bool, str]:
        return qemu_method_accepts(device, block, "method", cls.name)

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return BootQemuRetry(device, retry_count(device, block))
