"""What a virtual lab is made of, as read from its file: the lab and its boards (``boards.py`` reads them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """The lab file is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class Board:
    name: str
    kind: str
    outlet: int
    telnet_port: int
    tftp_root: Path
    memory: int = 512
    # what a kind needs beyond these (a BMC port, an NFS export...): the entry's other keys
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class LabConfig:
    state_dir: Path
    listen: str = "127.0.0.1"
    pdu_port: int = 16421
    pdu_hostname: str = "lab-pdu"
    control_port: int = 7100
    boards: list[Board] = field(default_factory=list)
    # hosts reached over ssh (ssh_host.py), started with the lab: {name, port}
    ssh_hosts: list[dict[str, Any]] = field(default_factory=list)

    def uart(self, board: Board) -> Path:
        """The pty end QEMU opens as the board's UART."""
        return self.state_dir / "serial" / f"{board.name}-uart"

    def line(self, board: Board) -> Path:
        """The pty end ser2net serves: the 'serial cable' of the board."""
        return self.state_dir / "serial" / f"{board.name}-line"

    def outlet_file(self, board: Board, suffix: str) -> Path:
        return self.state_dir / "outlets" / f"{board.outlet}.{suffix}"
