"""Every method the dispatcher has, one list per section: adding a method is one line here.

The parser tries a block against its section's list, in this order.
"""

from __future__ import annotations

from lava_dispatcher.actions.boot.docker import DockerBoot
from lava_dispatcher.actions.boot.fastboot import FastbootBoot
from lava_dispatcher.actions.boot.generic_bootloader import GenericBootloaderBoot
from lava_dispatcher.actions.boot.grub import GrubBoot, GrubEfiBoot
from lava_dispatcher.actions.boot.ipxe import IpxeBoot
from lava_dispatcher.actions.boot.lxc import LxcBoot
from lava_dispatcher.actions.boot.minimal import MinimalBootStrategy
from lava_dispatcher.actions.boot.new_connection import NewConnectionBoot
from lava_dispatcher.actions.boot.qemu import QemuBoot
from lava_dispatcher.actions.boot.qemu_nfs import QemuNfsBoot
from lava_dispatcher.actions.boot.recovery import RecoveryBoot
from lava_dispatcher.actions.boot.schroot import SchrootBoot
from lava_dispatcher.actions.boot.ssh import SshBoot
from lava_dispatcher.actions.boot.uboot import UBootBoot
from lava_dispatcher.actions.boot.uefi_menu import UefiMenuBoot
from lava_dispatcher.actions.boot.uefi_shell import UefiShellBoot
from lava_dispatcher.actions.command import DeviceCommand
from lava_dispatcher.actions.deploy.docker import DockerDeploy
from lava_dispatcher.actions.deploy.downloads import DownloadDeploy, DownloadsDeploy, OverlayDeploy
from lava_dispatcher.actions.deploy.fastboot import FastbootDeploy
from lava_dispatcher.actions.deploy.lxc import LxcDeploy
from lava_dispatcher.actions.deploy.nbd import NbdDeploy
from lava_dispatcher.actions.deploy.nfs import NfsDeploy
from lava_dispatcher.actions.deploy.recovery import RecoveryDeploy
from lava_dispatcher.actions.deploy.removable import SataDeploy, SdDeploy, UsbDeploy
from lava_dispatcher.actions.deploy.ssh import SshDeploy
from lava_dispatcher.actions.deploy.tftp import TftpDeploy
from lava_dispatcher.actions.deploy.tmpfs import TmpfsDeploy
from lava_dispatcher.actions.deploy.uboot_ums import UBootUmsDeploy
from lava_dispatcher.actions.test.docker import DockerTest
from lava_dispatcher.actions.test.interactive import InteractiveTest
from lava_dispatcher.actions.test.monitor import MonitorTest
from lava_dispatcher.actions.test.shell import ShellTest
from lava_dispatcher.methods import Method

DEPLOY_METHODS: list[type[Method]] = [
    TmpfsDeploy,
    TftpDeploy,
    DockerDeploy,
    LxcDeploy,
    FastbootDeploy,
    DownloadsDeploy,
    DownloadDeploy,
    OverlayDeploy,
    SshDeploy,
    NfsDeploy,
    NbdDeploy,
    RecoveryDeploy,
    UsbDeploy,
    SataDeploy,
    SdDeploy,
    UBootUmsDeploy,
]
BOOT_METHODS: list[type[Method]] = [
    QemuBoot,
    QemuNfsBoot,
    UBootBoot,
    IpxeBoot,
    GrubBoot,
    GrubEfiBoot,
    UefiMenuBoot,
    UefiShellBoot,
    GenericBootloaderBoot,
    MinimalBootStrategy,
    DockerBoot,
    LxcBoot,
    FastbootBoot,
    SshBoot,
    SchrootBoot,
    NewConnectionBoot,
    RecoveryBoot,
]
TEST_METHODS: list[type[Method]] = [
    ShellTest,
    InteractiveTest,
    MonitorTest,
    DockerTest,
]
COMMAND_METHODS: list[type[Method]] = [
    DeviceCommand,
]

METHODS: dict[str, list[type[Method]]] = {
    "deploy": DEPLOY_METHODS,
    "boot": BOOT_METHODS,
    "test": TEST_METHODS,
    "command": COMMAND_METHODS,
}
