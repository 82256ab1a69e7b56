"""Every method the dispatcher has, one list per section: adding a method is one line here.

The parser tries a block against its section's list, in this order.
"""

from __future__ import annotations

from lava_dispatcher.actions.boot.grub import GrubBoot, GrubEfiBoot
from lava_dispatcher.actions.boot.minimal import MinimalBootStrategy
from lava_dispatcher.actions.boot.qemu import QemuBoot
from lava_dispatcher.actions.boot.uboot import UBootBoot
from lava_dispatcher.actions.boot.uefi_menu import UefiMenuBoot
from lava_dispatcher.actions.boot.uefi_shell import UefiShellBoot
from lava_dispatcher.actions.command import DeviceCommand
from lava_dispatcher.actions.deploy.tftp import TftpDeploy
from lava_dispatcher.actions.deploy.tmpfs import TmpfsDeploy
from lava_dispatcher.actions.test.interactive import InteractiveTest
from lava_dispatcher.actions.test.monitor import MonitorTest
from lava_dispatcher.actions.test.shell import ShellTest
from lava_dispatcher.methods import Method

DEPLOY_METHODS: list[type[Method]] = [TmpfsDeploy, TftpDeploy]
BOOT_METHODS: list[type[Method]] = [QemuBoot, UBootBoot, MinimalBootStrategy, GrubBoot, GrubEfiBoot,
                                   UefiMenuBoot, UefiShellBoot]
TEST_METHODS: list[type[Method]] = [ShellTest, InteractiveTest, MonitorTest]
COMMAND_METHODS: list[type[Method]] = [DeviceCommand]

METHODS: dict[str, list[type[Method]]] = {
    "deploy": DEPLOY_METHODS,
    "boot": BOOT_METHODS,
    "test": TEST_METHODS,
    "command": COMMAND_METHODS,
}
