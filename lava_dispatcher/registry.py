"""Every method the dispatcher has, one line per method: adding a method is one line here.

A line names the method as a block selects it (deploy ``to:``, boot ``method:``, the key a test
block has; every command block selects ``command``) and the class, as ``module:Class`` below
``lava_dispatcher.actions``. A class's module is imported when a job names the method, so
``lava-run --validate`` loads only what its job uses. The parser tries a block against its
section's methods in this order; a block no named method accepts is refused with every method's
reason (then all of them are imported).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lava_dispatcher.methods import Method
    from lava_dispatcher.plan import PlanBlock

DEPLOY_METHODS: dict[str, str] = {  # by the block's `to:`
    "tmpfs": "deploy.tmpfs:TmpfsDeploy",
    "tftp": "deploy.tftp:TftpDeploy",
    "docker": "deploy.docker:DockerDeploy",
    "lxc": "deploy.lxc:LxcDeploy",
    "fastboot": "deploy.fastboot:FastbootDeploy",
    "downloads": "deploy.downloads:DownloadsDeploy",
    "download": "deploy.downloads:DownloadDeploy",
    "overlay": "deploy.downloads:OverlayDeploy",
    "ssh": "deploy.ssh:SshDeploy",
    "nfs": "deploy.nfs:NfsDeploy",
    "nbd": "deploy.nbd:NbdDeploy",
    "recovery": "deploy.recovery:RecoveryDeploy",
    "vemsd": "deploy.vemsd:VemsdDeploy",
    "uuu": "deploy.uuu:UuuDeploy",
    "iso-installer": "deploy.iso_installer:IsoInstallerDeploy",
    "usb": "deploy.removable:UsbDeploy",
    "sata": "deploy.removable:SataDeploy",
    "sd": "deploy.removable:SdDeploy",
    "u-boot-ums": "deploy.uboot_ums:UBootUmsDeploy",
}
BOOT_METHODS: dict[str, str] = {  # by the block's `method:`
    "qemu": "boot.qemu:QemuBoot",
    "qemu-nfs": "boot.qemu_nfs:QemuNfsBoot",
    "monitor": "boot.qemu_monitor:QemuMonitorBoot",
    "u-boot": "boot.uboot:UBootBoot",
    "ipxe": "boot.ipxe:IpxeBoot",
    "grub": "boot.grub:GrubBoot",
    "grub-efi": "boot.grub:GrubEfiBoot",
    "uefi-menu": "boot.uefi_menu:UefiMenuBoot",
    "uefi": "boot.uefi_shell:UefiShellBoot",
    "bootloader": "boot.generic_bootloader:GenericBootloaderBoot",
    "minimal": "boot.minimal:MinimalBootStrategy",
    "docker": "boot.docker:DockerBoot",
    "lxc": "boot.lxc:LxcBoot",
    "fastboot": "boot.fastboot:FastbootBoot",
    "ssh": "boot.ssh:SshBoot",
    "schroot": "boot.schroot:SchrootBoot",
    "new_connection": "boot.new_connection:NewConnectionBoot",
    "recovery": "boot.recovery:RecoveryBoot",
    "barebox": "boot.barebox:BareboxBoot",
    "depthcharge": "boot.depthcharge:DepthchargeBoot",
    "uuu": "boot.uuu:UuuBoot",
    "qemu-iso": "boot.qemu_iso:QemuIsoBoot",
}
TEST_METHODS: dict[str, str] = {  # by a key the block has
    "definitions": "test.shell:ShellTest",
    "interactive": "test.interactive:InteractiveTest",
    "monitors": "test.monitor:MonitorTest",
    "docker": "test.docker:DockerTest",
    "services": "test.services:ServicesTest",
}
COMMAND_METHODS: dict[str, str] = {  # every command block
    "command": "command:DeviceCommand",
}

SECTIONS: dict[str, dict[str, str]] = {
    "deploy": DEPLOY_METHODS,
    "boot": BOOT_METHODS,
    "test": TEST_METHODS,
    "command": COMMAND_METHODS,
}


def method_class(target: str) -> type[Method]:
    """The class a registry line names, its module imported now."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(f"lava_dispatcher.actions.{module}"), name)


def block_names(block: PlanBlock) -> list[str]:
    """The registry names a block selects: the methods that may accept it."""
    if block.section == "deploy":
        return [str(block.parameters.get("to"))]
    if block.section == "boot":
        return [str(block.parameters.get("method"))]
    if block.section == "test":
        return [str(key) for key in block.parameters]
    return ["command"]


def named_methods(block: PlanBlock) -> list[type[Method]]:
    """The methods the block names, in registry order (imported now)."""
    names = set(block_names(block))
    return [method_class(target) for name, target in SECTIONS[block.section].items() if name in names]


def section_methods(section: str) -> list[type[Method]]:
    """Every method of a section, in registry order (all imported)."""
    return [method_class(target) for target in SECTIONS[section].values()]


def __getattr__(name: str) -> Any:
    # METHODS, every section's classes, costs every method module: only tests and tools ask for it
    if name == "METHODS":
        methods: Mapping[str, list[type[Method]]] = {section: section_methods(section) for section in SECTIONS}
        return methods
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
