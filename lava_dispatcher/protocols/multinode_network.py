"""A network of its own for the QEMU boards of one MultiNode group (``protocols.lava-multinode.network: true``).

Each board gets one more network card, on an Ethernet segment only the group's boards share:
QEMU's socket netdev on a multicast group of the host's loopback (``-netdev socket,mcast=...``),
whose address and port come from the group's id. No root, no bridge, no tap: every QEMU of the
group, on one worker, joins the same multicast group and sees the others' frames, and the
segment vanishes with the last QEMU. (A bridge with tap devices in a network namespace would need
QEMU to run inside that namespace, where its user-mode network could no longer reach the host.)

Members are numbered by job id; member n has 10.A.B.(n+1)/24 and MAC 52:54:00:A:B:(n+1), where
A.B also come from the group's id. The overlay's ``lava-multinode-network-up`` gives the card
with that MAC its address before the first test runs, so ``lava-echo-ipv4`` and
``lava-network broadcast/collect/query`` report it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

NETDEV_ID = "lavamn0"
# virtio-net-pci exists on every QEMU machine with PCI (x86 pc/q35, arm virt); the card's boot ROM
# is left out: it would only slow the boot down looking for a PXE server
NIC_MODEL = "virtio-net-pci"
PREFIX = 24


@dataclass(frozen=True)
class GroupNetwork:
    subnet: tuple[int, int]  # A.B of 10.A.B.0/24
    multicast: str  # 239.255.X.Y
    port: int
    index: int  # this member's place in the group, from 0

    @classmethod
    def for_member(cls, target_group: str, roles: Mapping[str, str], job_id: str) -> GroupNetwork:
        digest = hashlib.sha256(target_group.encode()).digest()
        members = sorted(roles, key=lambda name: (len(name), name))
        # 10.100.0.0 to 10.227.255.0: clear of QEMU's user network (10.0.2.0/24)
        subnet = (100 + digest[0] % 128, digest[1])
        return cls(subnet, f"239.255.{digest[2]}.{digest[3]}", 20000 + int.from_bytes(digest[4:6]) % 40000,
                   members.index(job_id))

    @property
    def address(self) -> str:
        return f"10.{self.subnet[0]}.{self.subnet[1]}.{self.index + 1}/{PREFIX}"

    @property
    def mac(self) -> str:
        return f"52:54:00:{self.subnet[0]:02x}:{self.subnet[1]:02x}:{self.index + 1:02x}"

    def qemu_args(self) -> list[str]:
        return [
            "-netdev", f"socket,id={NETDEV_ID},mcast={self.multicast}:{self.port},localaddr=127.0.0.1",
            "-device", f"{NIC_MODEL},netdev={NETDEV_ID},mac={self.mac},romfile=",
        ]
