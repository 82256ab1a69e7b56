"""The boards the lab in a box can run, and which ones a start asks for (``./lab.sh --boards``).

A board is a device of the lab: its hostname, device type, tags and device
dictionary. A board that is a QEMU machine behind a serial line and a PDU
outlet also names its virtual-lab ``kind`` (``share/virtual-lab/boards.py``);
the lab gives it the next outlet and telnet port. Adding a board is one entry
in ``BOARDS``, plus its health check (``share/health-checks/<device type>.yaml``)
and sample jobs (``share/lab/jobs/*.yaml``, submitted only when a chosen board
has their device type).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PDU = "lab-pdu"
# the lab's own docker daemon (share/virtual-lab/private_dockerd.py), run only when a docker board is chosen:
# its files under <state>/dockerd, its socket <state>/dockerd/docker.sock (the worker's dispatcher.yaml names it)
DOCKERD_STATE = "dockerd"
DOCKER_IMAGE = "lava/busybox:1"  # imported from share/test-images/build-container-rootfs.sh's tarball
# the ssh host board's sshd (share/virtual-lab/ssh_host.py), started by the virtual lab
SSH_HOST_PEER = "ssh-host"


def ssh_host_port() -> int:
    """The ssh host board's sshd port: ./lab.sh --ssh-port (LAVA_LAB_SSH_PORT), which run.py passes on."""
    return int(os.environ.get("LAVA_LAB_SSH_PORT") or 7022)


@dataclass(frozen=True)
class Wiring:
    """Where a virtual board's serial line and outlet are in this start of the lab."""

    telnet_port: int
    outlet: int
    pdu_daemon: str  # host:port of pdudaemon's HTTP listener
    nfs_port: int = 0  # the lab's NFS server (nfs-ganesha), for the boards that boot their root over NFS

    def pdu(self, command: str) -> str:
        return f"pduclient --daemon {self.pdu_daemon} --hostname {PDU} --port {self.outlet} --command {command}"

    def power_lines(self) -> str:
        """The dictionary lines of a board powered through the lab's PDU, console on ser2net."""
        return (
            f"{{% set connection_command = 'telnet localhost {self.telnet_port}' %}}\n"
            # a virtual board needs no time for its capacitors to drain: reboot without pdudaemon's 5 s
            f"{{% set hard_reset_command = '{self.pdu('reboot --delay 0')}' %}}\n"
            f"{{% set power_off_command = '{self.pdu('off')}' %}}\n"
            f"{{% set power_on_command = '{self.pdu('on')}' %}}\n"
        )


@dataclass(frozen=True)
class LabBoard:
    hostname: str
    device_type: str
    summary: str  # one line for ./lab.sh --list-boards
    dictionary: Callable[[Wiring | None], str]  # None for a board with no kind (no outlet, no line)
    tags: tuple[str, ...] = ()
    kind: str | None = None  # a virtual-lab kind: QEMU behind ser2net and a PDU outlet
    kind_options: dict = field(default_factory=dict)  # extra keys of its virtual-lab board entry
    default: bool = False  # started by a plain ./lab.sh


def _qemu(arch_note: str) -> Callable[[Wiring | None], str]:
    def dictionary(_: Wiring | None) -> str:
        return (
            "{% extends 'qemu.jinja2' %}\n"
            f"{{# {arch_note}: the job's context.arch picks the architecture; the tag tells jobs apart #}}\n"
            "{% set memory = 256 %}\n"
        )

    return dictionary


def _uboot_arm64(wiring: Wiring | None) -> str:
    assert wiring is not None
    return (
        "{% extends 'qemu-uboot-arm64.jinja2' %}\n"
        + wiring.power_lines()
        + "{# QEMU's user network: its own TFTP server (rooted at the worker's tftp_root) is 10.0.2.2 #}\n"
        "{% set uboot_tftp_server_ip = '10.0.2.2' %}\n"
    )


def _docker(_: Wiring | None) -> str:
    return (
        "{% extends 'docker.jinja2' %}\n"
        "{# containers of the lab's private dockerd: no network, no host device, no privilege #}\n"
    )


# the virtual phone's fastboot port is its telnet port plus this (share/virtual-lab/boards.py: fastboot_port)
FASTBOOT_PORT_OFFSET = 1000


def _fastboot_phone(wiring: Wiring | None) -> str:
    assert wiring is not None
    return (
        "{% extends 'fastboot-phone.jinja2' %}\n"
        + wiring.power_lines()
        + f"{{% set fastboot_serial_number = 'tcp:127.0.0.1:{wiring.telnet_port + FASTBOOT_PORT_OFFSET}' %}}\n"
        "{% set flash_cmds_order = ['system', 'boot'] %}\n"
        "{% set device_info = [{'board_id': fastboot_serial_number}] %}\n"
    )


def ssh_host_dir(hostname: str) -> Path:
    """Where the virtual lab keeps an ssh host's sshd configuration and keys (under the lab's state)."""
    return Path(os.environ.get("LAVA_STATE_DIR", ".state")).resolve() / "virtual-lab" / hostname


def _ssh_host(_: Wiring | None) -> str:
    directory = ssh_host_dir("ssh-host-01")
    return (
        "{% extends 'ssh.jinja2' %}\n"
        "{% set ssh_host = '127.0.0.1' %}\n"
        f"{{% set ssh_port = {ssh_host_port()} %}}\n"
        f"{{% set ssh_identity_file = '{directory}/id_ed25519' %}}\n"
        "{# the host is this machine: test overlays go to a folder of the peer, not to / #}\n"
        f"{{% set lava_test_results_dir = '{directory}/root/lava-%s' %}}\n"
    )

def _nfs_arm64(wiring: Wiring | None) -> str:
    assert wiring is not None
    return (
        _uboot_arm64(wiring)
        # the lab's ganesha listens on this port, not 2049 (NFSv4 only: no rpcbind, no portmapper)
        + f"{{% set extra_nfsroot_args = 'port={wiring.nfs_port}' %}}\n"
    )


# the lab's NFS server listens below the serial lines: ser2net's control port is the first telnet port - 1
NFS_PORT_BELOW_TELNET = 2


def _ipxe_x86(wiring: Wiring | None) -> str:
    assert wiring is not None
    return (
        "{% extends 'x86.jinja2' %}\n"
        + wiring.power_lines()
        + "{# QEMU's user network: its own TFTP server (rooted at the worker's tftp_root) is 10.0.2.2 #}\n"
        "{% set ipxe_tftp_server_ip = '10.0.2.2' %}\n"
        "{# QEMU's iPXE keeps up with 20 ms a character (the x86 default is a slow PC's 100) #}\n"
        "{% set boot_character_delay = 20 %}\n"
    )


# the UEFI server's BMC listens this far above its telnet port (its link to QEMU one further)
UEFI_BMC_PORT_OFFSET = 200
UEFI_BMC_USER, UEFI_BMC_PASSWORD = "lava", "lava-bmc"


def _uefi_x86(wiring: Wiring | None) -> str:
    assert wiring is not None
    # -C 3: ipmi_sim's cipher suite (asking for the list first costs 3 s a command)
    ipmi = (f"ipmitool -I lanplus -C 3 -H 127.0.0.1 -p {wiring.telnet_port + UEFI_BMC_PORT_OFFSET} "
            f"-U {UEFI_BMC_USER} -P {UEFI_BMC_PASSWORD} -N 1 -R 2 chassis power")
    return (
        "{% extends 'grub-x86.jinja2' %}\n"
        "{# OVMF + GRUB EFI from the network; power through the BMC (ipmi_sim), console on ser2net #}\n"
        f"{{% set connection_command = 'telnet localhost {wiring.telnet_port}' %}}\n"
        f"{{% set power_on_command = '{ipmi} on' %}}\n"
        f"{{% set power_off_command = '{ipmi} off' %}}\n"
        # 'cycle' powers a board that is off on, too
        f"{{% set hard_reset_command = '{ipmi} cycle' %}}\n"
        "{% set grub_tftp_server_ip = '10.0.2.2' %}\n"
        # GRUB on a firmware with no video says so right after 'boot'
        "{% set grub_final_message = 'Booting in blind mode' %}\n"
    )


# the U-Boot board with a USB stick and a SATA disk (share/virtual-lab/boards.py: MEDIA_KIND): the names
# its master OS (share/test-images/build-media.sh) gives them in /dev/disk/by-id, from QEMU's serial numbers
MEDIA_KIND = "qemu-uboot-arm64-media"
USB_BY_ID = "usb-QEMU_QEMU_HARDDISK_LAVAUSB1-0:0"
SATA_BY_ID = "ata-QEMU_HARDDISK_LAVASATA1"


def _media_arm64(wiring: Wiring | None) -> str:
    return (
        _uboot_arm64(wiring)
        + "{# its media, for jobs' deploy: to: usb|sata (device: the label) and boot commands: usb|sata #}\n"
        f"{{% set usb_label = 'QemuStick' %}}\n{{% set usb_uuid = '{USB_BY_ID}' %}}\n"
        f"{{% set sata_label = 'QemuDisk' %}}\n{{% set sata_uuid = '{SATA_BY_ID}' %}}\n"
    )


BOARDS: list[LabBoard] = [
    LabBoard("qemu-x86-64-01", "qemu", "QEMU x86_64 run by the dispatcher itself", _qemu("meant for x86_64 jobs"),
             tags=("x86_64",), default=True),
    LabBoard("qemu-arm64-01", "qemu", "QEMU arm64 run by the dispatcher itself", _qemu("meant for arm64 jobs"),
             tags=("arm64",), default=True),
    LabBoard("uboot-arm64-01", "qemu-uboot-arm64", "QEMU arm64 running U-Boot, console on ser2net, power on the PDU",
             _uboot_arm64, kind="qemu-uboot-arm64", default=True),
    LabBoard("docker-01", "docker", "a busybox container of the lab's private dockerd, started for each job",
             _docker),
    LabBoard("fastboot-phone-01", "fastboot-phone",
             "virtual Android phone: fastboot over TCP, boots its flashed boot image in QEMU arm64",
             _fastboot_phone, kind="fastboot-phone",
             kind_options={"fastboot_port_offset": FASTBOOT_PORT_OFFSET, "arch": "arm64"}),
    LabBoard("ssh-host-01", "ssh", "a host reached over ssh: OpenSSH's sshd on 127.0.0.1 (--ssh-port)",
             _ssh_host, kind_options={"peer": SSH_HOST_PEER}),
    # the same U-Boot board, its root filesystem on the lab's NFS server (started only when this board is chosen)
    LabBoard("nfs-arm64-01", "qemu-uboot-arm64", "QEMU arm64 U-Boot board whose root filesystem is on the lab's NFS server",
             _nfs_arm64, tags=("nfs-root",), kind="qemu-uboot-arm64", kind_options={"nfs_server": True}),
    LabBoard("ipxe-x86-01", "x86", "QEMU x86_64 PC: SeaBIOS + iPXE network boot, console on ser2net, power on the PDU",
             _ipxe_x86, kind="qemu-ipxe-x86"),
    LabBoard("uefi-x86-01", "grub-x86", "QEMU x86_64 with OVMF netbooting GRUB EFI, power through its BMC (IPMI)",
             _uefi_x86, kind="ovmf-grub-x86", kind_options={"bmc_port_offset": UEFI_BMC_PORT_OFFSET,
                                                             "bmc_user": UEFI_BMC_USER,
                                                             "bmc_password": UEFI_BMC_PASSWORD}),
    # last: the boards above keep their outlets and telnet ports
    LabBoard("uboot-media-arm64-01", "qemu-uboot-arm64",
             "QEMU arm64 U-Boot board with a USB stick (EHCI) and a SATA disk (AHCI), written by a master OS",
             _media_arm64, tags=("usb-stick", "sata-disk"), kind=MEDIA_KIND),
]


def needs_dockerd(boards: list[LabBoard]) -> bool:
    return any(board.device_type == "docker" for board in boards)


def needs_nfs_server(boards: list[LabBoard]) -> bool:
    return any(board.kind_options.get("nfs_server") for board in boards)


def needs_media_images(boards: list[LabBoard]) -> bool:
    """A board with secondary media: its jobs need build-media.sh's images and fetch them over HTTP."""
    return any(board.kind == MEDIA_KIND for board in boards)


class UnknownBoard(ValueError):
    pass


def choose(spec: str | None) -> list[LabBoard]:
    """The boards named by ``--boards`` (comma-separated hostnames, ``default`` or ``all``), in catalogue order."""
    if not spec or spec == "default":
        return [b for b in BOARDS if b.default]
    if spec == "all":
        return list(BOARDS)
    known = {b.hostname: b for b in BOARDS}
    names = [name.strip() for name in spec.split(",") if name.strip()]
    wanted: set[str] = set()
    for name in names:
        if name == "default":
            wanted |= {b.hostname for b in BOARDS if b.default}
        elif name in known:
            wanted.add(name)
        else:
            raise UnknownBoard(f"--boards: unknown board {name!r} (known: {', '.join(known)}, default, all)")
    return [b for b in BOARDS if b.hostname in wanted]


def wirings(boards: list[LabBoard], first_telnet_port: int, pdu_daemon: str) -> dict[str, Wiring]:
    """Outlets 1, 2, ... and telnet ports from the first one, to the chosen boards that have a kind.

    Numbered by catalogue position, so a board keeps its outlet and port whichever others are chosen.
    """
    chosen = {b.hostname for b in boards}
    result = {}
    for index, board in enumerate(b for b in BOARDS if b.kind):
        if board.hostname in chosen:
            result[board.hostname] = Wiring(first_telnet_port + index, index + 1, pdu_daemon,
                                            nfs_port=first_telnet_port - NFS_PORT_BELOW_TELNET)
    return result
