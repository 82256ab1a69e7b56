"""The virtual iPXE PC's device dictionary: SeaBIOS and the iPXE ROM of its e1000 card in QEMU,
switched by ``tests/dispatcher/virtual-ipxe/power.sh``, its serial line on a TCP port, TFTP from a
folder of the dispatcher; the same board runs GRUB for BIOS when DHCP names GRUB's PXE image."""

from __future__ import annotations

from pathlib import Path

POWER = Path(__file__).resolve().parents[2] / "tests" / "dispatcher" / "virtual-ipxe" / "power.sh"
IPXE_ROM = Path("/usr/lib/ipxe/qemu/pxe-e1000.rom")
GRUB_PXE_BOOTFILE = "boot/grub/i386-pc/core.0"  # share/test-images/build-grub-pxe.sh's tree, in the TFTP root
# GRUB prints nothing when it hands over to the kernel: the kernel's first line is what the login waits for;
# GRUB reads the keys SeaBIOS takes from the serial line once a timer tick (55 ms): typed slower than for iPXE
GRUB_PC_LINES = "{% set grub_final_message = '' %}\n{% set boot_character_delay = 80 %}\n"


def dictionary(state: Path, tftp: Path, port: int, rom: str = str(IPXE_ROM), bootfile: str = "") -> str:
    """Our ``x86`` type for the board: ``state`` its folder, ``port`` its serial line, ``bootfile`` the file
    DHCP names for the ROM to run (none: iPXE's own prompt)."""
    power = f"{POWER} {{}} {state} {port} {tftp} {rom} {bootfile}".rstrip()
    return (
        "{% extends 'x86.jinja2' %}\n"
        f"{{% set connection_command = 'socat STDIO,raw,echo=0 TCP:127.0.0.1:{port},retry=300,interval=0.1' %}}\n"
        f"{{% set power_on_command = '{power.format('on')}' %}}\n"
        f"{{% set power_off_command = '{power.format('off')}' %}}\n"
        "{% set boot_character_delay = 20 %}\n"
    )
