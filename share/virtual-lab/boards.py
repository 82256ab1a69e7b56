"""A virtual lab's configuration: its boards and the files that describe them to ser2net and pdudaemon.

One YAML file describes the whole lab (see ``lab.yaml`` beside this file)::

    state_dir: /var/lib/lava-virtual-lab      # relative paths are relative to the file
    listen: 127.0.0.1                         # ser2net and pdudaemon listen here
    pdu: {port: 16421, hostname: lab-pdu}
    ser2net: {control_port: 7100}
    boards:
      - {name: uboot-01, kind: qemu-uboot-arm64, outlet: 1, telnet_port: 7101, tftp_root: /srv/tftp}

Nothing here starts a process: ``virtual_lab.py`` does.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import uefi_board
import yaml
from lab_config import Board, ConfigError, LabConfig

HERE = Path(__file__).resolve().parent
POWER_SCRIPT = HERE / "board-power.sh"
UBOOT_ARM64 = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
IPXE_E1000_ROM = Path("/usr/lib/ipxe/qemu/pxe-e1000.rom")  # Debian's ipxe-qemu
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _int(data: dict, key: str, where: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"{where}.{key}: expected a number from 1 to 65535, got {value!r}")
    return value


_BOARD_KEYS = {"name", "kind", "outlet", "telnet_port", "tftp_root", "memory"}


def _board(data: Any, index: int, base: Path, source: str) -> Board:
    where = f"{source}: boards[{index}]"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping")
    name = str(data.get("name", ""))
    if not _NAME.match(name):
        raise ConfigError(f"{where}.name: {name!r} is not a valid board name")
    kind = data.get("kind", "qemu-uboot-arm64")
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind: unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    if "tftp_root" not in data:
        raise ConfigError(f"{where}.tftp_root: missing (the worker's tftp_root, which QEMU serves over TFTP)")
    return Board(
        name=name,
        kind=kind,
        outlet=_int(data, "outlet", where),
        telnet_port=_int(data, "telnet_port", where),
        tftp_root=(base / str(data["tftp_root"])).resolve(),
        memory=_int(data, "memory", where, 512),
        options={k: v for k, v in data.items() if k not in _BOARD_KEYS},
    )


def _ssh_host(data: Any, index: int, source: str) -> dict[str, Any]:
    where = f"{source}: ssh_hosts[{index}]"
    if not isinstance(data, dict) or not _NAME.match(str(data.get("name", ""))):
        raise ConfigError(f"{where}: expected a mapping with a valid name")
    return {"name": str(data["name"]), "port": _int(data, "port", where)}


def parse_config(data: Any, base: Path, source: str = "lab configuration") -> LabConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top")
    if "state_dir" not in data:
        raise ConfigError(f"{source}: state_dir: missing")
    pdu = data.get("pdu") or {}
    ser2net = data.get("ser2net") or {}
    boards = data.get("boards") or []
    if not isinstance(boards, list):
        raise ConfigError(f"{source}: boards: expected a list")
    config = LabConfig(
        state_dir=(base / str(data["state_dir"])).resolve(),
        listen=str(data.get("listen", "127.0.0.1")),
        pdu_port=_int(pdu, "port", f"{source}: pdu", 16421),
        pdu_hostname=str(pdu.get("hostname", "lab-pdu")),
        control_port=_int(ser2net, "control_port", f"{source}: ser2net", 7100),
        boards=[_board(item, i, base, source) for i, item in enumerate(boards)],
        ssh_hosts=[_ssh_host(item, i, source) for i, item in enumerate(data.get("ssh_hosts") or [])],
    )
    for key in ("name", "outlet", "telnet_port"):
        values = [getattr(b, key) for b in config.boards]
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            raise ConfigError(f"{source}: boards: {key} used twice: {', '.join(duplicates)}")
    return config


def load_config(path: Path) -> LabConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, path.resolve().parent, str(path))


# -- what each kind of board runs when its outlet is switched on


def _qemu_uboot_arm64(config: LabConfig, board: Board) -> list[str]:
    return [
        "qemu-system-aarch64", "-name", f"virtual-lab-{board.name}",
        "-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg", "-m", str(board.memory),
        "-display", "none", "-monitor", "none", "-no-reboot",
        "-bios", str(UBOOT_ARM64),
        # slirp's own TFTP server, rooted at the worker's tftp_root, answers at 10.0.2.2
        "-netdev", f"user,id=n0,tftp={board.tftp_root}", "-device", "virtio-net-pci,netdev=n0",
        "-chardev", f"serial,id=s0,path={config.uart(board)}", "-serial", "chardev:s0",
        "-daemonize", "-pidfile", str(config.outlet_file(board, "pid")),
    ]


# the U-Boot board with secondary media: Debian's qemu_arm64 U-Boot drives EHCI (not xHCI) and AHCI.
# The serial numbers give the names the master OS (share/test-images/build-media.sh) makes in /dev/disk/by-id.
MEDIA_KIND = "qemu-uboot-arm64-media"


def media_disks(config: LabConfig, board: Board) -> tuple[Path, Path]:
    """The board's USB stick and SATA disk under the state dir, made blank (sparse, option ``disk_mb``,
    default 128) when missing: what a job writes there outlives power cycles, as on a real board."""
    folder = config.state_dir / "disks" / board.name
    folder.mkdir(parents=True, exist_ok=True)
    disks = (folder / "usb.img", folder / "sata.img")
    for disk in disks:
        if not disk.exists():
            with disk.open("wb") as blank:
                blank.truncate(int(board.options.get("disk_mb", 128)) << 20)
    return disks


def _qemu_uboot_arm64_media(config: LabConfig, board: Board) -> list[str]:
    usb, sata = media_disks(config, board)
    argv = _qemu_uboot_arm64(config, board)
    serial = argv.index("-chardev")
    argv[serial:serial] = [
        "-device", "usb-ehci,id=ehci", "-drive", f"if=none,id=usbdisk,format=raw,file={usb}",
        "-device", "usb-storage,bus=ehci.0,drive=usbdisk,serial=LAVAUSB1",
        "-device", "ahci,id=ahci", "-drive", f"if=none,id=satadisk,format=raw,file={sata}",
        "-device", "ide-hd,bus=ahci.0,drive=satadisk,serial=LAVASATA1",
    ]
    return argv


PHONE = HERE / "fastboot_phone.py"


def fastboot_port(board: Board) -> int:
    """A phone's fastboot TCP port: ``fastboot_port``, else its telnet port plus ``fastboot_port_offset``."""
    if "fastboot_port" in board.options:
        return int(board.options["fastboot_port"])
    return board.telnet_port + int(board.options.get("fastboot_port_offset", 1000))


def _fastboot_phone(config: LabConfig, board: Board) -> list[str]:
    # the phone is a Python program in its bootloader until `fastboot reboot` makes it start QEMU
    return [
        "python3", str(PHONE), "--state", str(config.state_dir / "phones" / board.name),
        "--port", str(fastboot_port(board)), "--uart", str(config.uart(board)),
        "--arch", str(board.options.get("arch", "arm64")), "--memory", str(board.memory),
        "--serialno", board.name, "--daemonize", "--pidfile", str(config.outlet_file(board, "pid")),
    ]


def _qemu_ipxe_x86(config: LabConfig, board: Board) -> list[str]:
    """A PC whose SeaBIOS network-boots the iPXE ROM of its e1000 card (option ``rom``: another ROM file)."""
    rom = str(board.options.get("rom") or IPXE_E1000_ROM)
    return [
        "qemu-system-x86_64", "-name", f"virtual-lab-{board.name}",
        # graphics=off: SeaBIOS and the option ROM write to the serial port instead of a screen
        "-machine", "graphics=off", "-accel", "tcg", "-m", str(board.memory),
        "-display", "none", "-monitor", "none", "-no-reboot",
        "-netdev", f"user,id=n0,tftp={board.tftp_root}", "-device", f"e1000,netdev=n0,romfile={rom}", "-boot", "n",
        "-chardev", f"serial,id=s0,path={config.uart(board)}", "-serial", "chardev:s0",
        "-daemonize", "-pidfile", str(config.outlet_file(board, "pid")),
    ]


KINDS = {
    "qemu-uboot-arm64": _qemu_uboot_arm64,
    "fastboot-phone": _fastboot_phone,
    "qemu-ipxe-x86": _qemu_ipxe_x86,
    uefi_board.KIND: uefi_board.qemu_command,
    MEDIA_KIND: _qemu_uboot_arm64_media,
}


def outlet_script(config: LabConfig, board: Board) -> str:
    command = " ".join(shlex.quote(arg) for arg in KINDS[board.kind](config, board))
    return f"# outlet {board.outlet}: board {board.name} ({board.kind})\nexec {command}\n"


def ser2net_yaml(config: LabConfig) -> str:
    lines = ["%YAML 1.1", "---"]
    for board in config.boards:
        lines += [
            f"connection: &{board.name}",
            f"    accepter: telnet(rfc2217),tcp,{config.listen},{board.telnet_port}",
            f"    connector: serialdev,{config.line(board)},115200n81,local",
            "    enable: on",
            "    options:",
            # a dispatcher that died must not lock the console for the next job
            "      kickolduser: true",
        ]
    return "\n".join(lines) + "\n"


def pdudaemon_conf(config: LabConfig) -> str:
    power = f"{shlex.quote(str(POWER_SCRIPT))} {shlex.quote(str(config.state_dir))}"
    data = {
        "daemon": {"hostname": config.listen, "port": config.pdu_port, "logging_level": "INFO", "listener": "http"},
        "pdus": {
            config.pdu_hostname: {
                "driver": "localcmdline",
                "cmd_on": f"{power} on %s",
                "cmd_off": f"{power} off %s",
            }
        },
        "aliases": {b.name: {"hostname": config.pdu_hostname, "port": b.outlet} for b in config.boards},
    }
    return json.dumps(data, indent=2) + "\n"


def write_files(config: LabConfig) -> None:
    """The outlet scripts, ser2net.yaml and pdudaemon.conf under the state dir."""
    for folder in ("outlets", "serial"):
        (config.state_dir / folder).mkdir(parents=True, exist_ok=True)
    for board in config.boards:
        board.tftp_root.mkdir(parents=True, exist_ok=True)
        config.outlet_file(board, "on").write_text(outlet_script(config, board))
    (config.state_dir / "ser2net.yaml").write_text(ser2net_yaml(config))
    (config.state_dir / "pdudaemon.conf").write_text(pdudaemon_conf(config))
