"""The x86 UEFI server: OVMF firmware network-booting GRUB EFI, powered through its BMC (``ipmi_sim``).

OVMF asks DHCP for a boot file; QEMU's user network answers with
``boot/grub/x86_64-efi/core.efi`` from the worker's tftp_root, where
``grub-mknetdir`` put it. GRUB finds no ``grub.cfg`` and stops at ``grub>``
on the serial console, where the dispatcher types the job's commands. The
board's QEMU is not started by an outlet but by its BMC: ``chassis power on``.

A board entry of this kind carries ``bmc_port`` (IPMI over LAN) or
``bmc_port_offset`` (from its telnet port: the lab's numbering), and may carry
``bmc_user`` and ``bmc_password``; the BMC's link to QEMU is the next port.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ipmi_bmc import Bmc, available

if TYPE_CHECKING:
    from lab_config import Board, LabConfig

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
GRUB_EFI_MODULES = Path("/usr/lib/grub/x86_64-efi")
BOOTFILE = "boot/grub/x86_64-efi/core.efi"
KIND = "ovmf-grub-x86"
BMC_USER = "lava"
BMC_PASSWORD = "lava-bmc"


def bmc_of(config: LabConfig, board: Board) -> Bmc:
    options = board.options
    port = int(options["bmc_port"]) if "bmc_port" in options else board.telnet_port + int(options["bmc_port_offset"])
    return Bmc(name=board.name, folder=config.state_dir / "bmc" / board.name, lan_port=port, vm_port=port + 1,
               user=str(options.get("bmc_user", BMC_USER)),
               password=str(options.get("bmc_password", BMC_PASSWORD)), listen=config.listen)


def firmware_vars(config: LabConfig, board: Board) -> Path:
    """The board's own copy of OVMF's variable store (its NVRAM: boot entries survive power cycles)."""
    return config.state_dir / "firmware" / f"{board.name}-vars.fd"


def qemu_command(config: LabConfig, board: Board) -> list[str]:
    return [
        "qemu-system-x86_64", "-name", f"virtual-lab-{board.name}",
        "-machine", "q35", "-accel", "tcg", "-m", str(board.memory),
        "-display", "none", "-monitor", "none", "-no-user-config",
        "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
        "-drive", f"if=pflash,format=raw,file={firmware_vars(config, board)}",
        # slirp's TFTP server (10.0.2.2) is the worker's tftp_root; its DHCP hands out GRUB
        "-netdev", f"user,id=n0,tftp={board.tftp_root},bootfile={BOOTFILE},ipv6=off",
        "-device", "virtio-net-pci,netdev=n0,romfile=", "-boot", "n",
        "-chardev", f"serial,id=s0,path={config.uart(board)}", "-serial", "chardev:s0",
        # no -daemonize: the BMC runs QEMU and sees it go; the pid file tells the lab the board is on
        "-pidfile", str(config.outlet_file(board, "pid")),
        *bmc_of(config, board).qemu_args(),
    ]


def grub_netdir(tftp_root: Path) -> None:
    """GRUB EFI's network boot tree in the TFTP root, made once (``grub-mknetdir``)."""
    if (tftp_root / BOOTFILE).exists():
        return
    subprocess.run(["grub-mknetdir", f"--net-directory={tftp_root}", "--subdir=boot/grub",
                    "-d", str(GRUB_EFI_MODULES)], check=True, capture_output=True, timeout=120)


def prepare(config: LabConfig, board: Board) -> Bmc:
    """Firmware store, GRUB tree and BMC files of one board; the BMC is returned for the lab to run."""
    store = firmware_vars(config, board)
    if not store.exists():
        store.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(OVMF_VARS, store)
    grub_netdir(board.tftp_root)
    bmc = bmc_of(config, board)
    bmc.write(qemu_command(config, board))
    return bmc


def missing() -> str | None:
    """Why this kind cannot run here, or None."""
    for path, package in ((OVMF_CODE, "ovmf"), (GRUB_EFI_MODULES, "grub-efi-amd64-bin")):
        if not path.exists():
            return f"{path} is missing (package {package})"
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 is not installed"
    return available()
