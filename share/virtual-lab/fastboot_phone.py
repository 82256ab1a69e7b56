#!/usr/bin/env python3
"""A virtual Android phone: a fastboot bootloader on TCP that boots what it was flashed with in QEMU.

    fastboot_phone.py --state DIR --port PORT --uart PTY [--arch arm64|x86_64] [--daemonize --pidfile F]

Powered on, the phone is in its bootloader: it prints a banner on its UART and
answers the fastboot protocol on ``127.0.0.1:PORT`` (what ``fastboot -s
tcp:127.0.0.1:PORT ...`` speaks: ``FB01``, then packets with an 8-byte
big-endian length). What is flashed is kept under ``DIR/partitions/`` (sparse
images are expanded there). ``reboot``/``continue`` boot the ``boot``
partition, ``boot`` the image just downloaded: an Android boot image whose
kernel, ramdisk and command line QEMU boots with its UART on the same pty.
While the OS runs, fastboot does not answer (as a phone that left its
bootloader); when QEMU stops (``reboot`` in the OS), the phone is back in its
bootloader. SIGTERM (the PDU's "off") stops QEMU and the phone.

``--fail-partition NAME`` makes every flash of NAME answer FAIL (a worn-out
eMMC partition), for the tests of a flash that fails half-way.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from android_images import ImageError, is_sparse, parse_boot_image, write_sparse  # noqa: E402

PRODUCT = "lava-virtual-phone"
MAX_DOWNLOAD = 256 << 20  # what getvar:max-download-size announces: the CLI splits larger images
_PARTITION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_PR_SET_PDEATHSIG = 1

QEMU = {
    "x86_64": ["qemu-system-x86_64", "-M", "q35"],
    "arm64": ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57"],
}


class Disconnected(Exception):
    pass


def _die_with_parent() -> None:
    # QEMU must not outlive a phone killed with SIGKILL (the PDU's off escalates to it)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Phone:
    def __init__(self, args: argparse.Namespace) -> None:
        self.state = Path(args.state).resolve()
        self.partitions = self.state / "partitions"
        self.partitions.mkdir(parents=True, exist_ok=True)
        self.port = args.port
        self.uart = args.uart
        self.arch = args.arch
        self.memory = args.memory
        self.serial = args.serialno
        self.fail_partitions = set(args.fail_partition or [])
        self.download: bytes = b""
        self.qemu: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.listener: socket.socket | None = None

    # -- the UART: the bootloader writes its banner, QEMU opens it while the OS runs

    def say(self, text: str) -> None:
        if not self.uart:
            return
        try:
            fd = os.open(self.uart, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return
        try:
            os.write(fd, text.replace("\n", "\r\n").encode())
        except OSError:
            pass
        finally:
            os.close(fd)

    # -- the bootloader: one fastboot client at a time

    def serve(self) -> None:
        while not self.stopping.is_set():
            self.listen()
            self.say(f"\nLAVA virtual phone bootloader\nFASTBOOT mode: tcp port {self.port}\n")
            boot_image = self.fastboot_session()
            if boot_image is None:
                continue
            self.close_listener()
            self.run_os(boot_image)

    def listen(self) -> None:
        if self.listener is None:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            sock.listen(1)
            self.listener = sock

    def close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def fastboot_session(self) -> bytes | None:
        """Serve clients until one asks to boot; returns the boot image to run."""
        assert self.listener is not None
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return None
            with conn:
                try:
                    image = self.handle(conn)
                except (Disconnected, OSError):
                    continue
                if image is not None:
                    return image
        return None

    def handle(self, conn: socket.socket) -> bytes | None:
        conn.settimeout(60)
        if self.recv_exact(conn, 4)[:2] != b"FB":
            return None
        conn.sendall(b"FB01")
        while True:
            command = self.recv_packet(conn).decode("ascii", "replace")
            self.log(f"fastboot: {command}")
            result = self.command(conn, command)
            if result is not None:
                return result

    def command(self, conn: socket.socket, command: str) -> bytes | None:
        name, _, arg = command.partition(":")
        if name == "getvar":
            if arg == "all":
                for key, value in self.variables().items():
                    self.reply(conn, "INFO", f"{key}:{value}")
                self.reply(conn, "OKAY")
            else:
                value = self.variable(arg)
                self.reply(conn, "OKAY", value) if value is not None else self.reply(conn, "FAIL", "unknown variable")
        elif name == "download":
            self.receive_download(conn, arg)
        elif name == "flash":
            self.flash(conn, arg)
        elif name == "erase":
            if not _PARTITION.match(arg):
                self.reply(conn, "FAIL", f"bad partition name {arg!r}")
            else:
                (self.partitions / arg).unlink(missing_ok=True)
                self.reply(conn, "OKAY")
        elif command in ("reboot", "continue"):
            self.reply(conn, "OKAY")
            return self.partition_image("boot")
        elif command == "boot":
            image = self.download
            self.reply(conn, "OKAY")
            return image or None
        elif command in ("reboot-bootloader", "reboot-fastboot"):
            self.reply(conn, "OKAY")
            self.say("\nrebooting into the bootloader\n")
        elif name.startswith("oem "):
            self.reply(conn, "INFO", f"{name[4:]}: nothing to do on a virtual phone")
            self.reply(conn, "OKAY")
        else:
            self.reply(conn, "FAIL", f"unknown command {command!r}")
        return None

    def variables(self) -> dict[str, str]:
        flashed = sorted(p.name for p in self.partitions.iterdir())
        values = {"version": "0.4", "version-bootloader": "lava-virtual-1", "product": PRODUCT,
                  "serialno": self.serial, "max-download-size": f"{MAX_DOWNLOAD:#x}", "secure": "no",
                  "unlocked": "yes", "is-userspace": "no"}
        for part in flashed:
            values[f"partition-size:{part}"] = f"{(self.partitions / part).stat().st_size:#x}"
        return values

    def variable(self, name: str) -> str | None:
        if name.startswith(("has-slot:", "is-logical:")):
            return "no"
        return self.variables().get(name)

    def receive_download(self, conn: socket.socket, arg: str) -> None:
        try:
            size = int(arg, 16)
        except ValueError:
            self.reply(conn, "FAIL", f"bad size {arg!r}")
            return
        if not 0 < size <= MAX_DOWNLOAD:
            self.reply(conn, "FAIL", f"size {size} is over {MAX_DOWNLOAD}")
            return
        self.reply(conn, "DATA", f"{size:08x}")
        chunks, received = [], 0
        while received < size:
            # the CLI may split the data into several packets, each with its own length
            chunk = self.recv_packet(conn)
            chunks.append(chunk)
            received += len(chunk)
        if received != size:
            self.reply(conn, "FAIL", f"received {received} bytes, expected {size}")
            return
        self.download = b"".join(chunks)
        self.reply(conn, "OKAY")

    def flash(self, conn: socket.socket, partition: str) -> None:
        if not _PARTITION.match(partition):
            self.reply(conn, "FAIL", f"bad partition name {partition!r}")
            return
        if partition in self.fail_partitions:
            self.reply(conn, "FAIL", f"flash write failure on {partition}")
            return
        if not self.download:
            self.reply(conn, "FAIL", "nothing downloaded")
            return
        target = self.partitions / partition
        try:
            if is_sparse(self.download):
                target.touch()
                with target.open("r+b") as out:
                    size = write_sparse(self.download, out)
                    if out.seek(0, os.SEEK_END) < size:
                        out.truncate(size)
                self.reply(conn, "INFO", "sparse image expanded")
            else:
                target.write_bytes(self.download)
        except ImageError as exc:
            self.reply(conn, "FAIL", str(exc))
            return
        self.reply(conn, "OKAY")

    def partition_image(self, partition: str) -> bytes | None:
        path = self.partitions / partition
        if not path.exists():
            self.say(f"\nno '{partition}' partition flashed: staying in the bootloader\n")
            return None
        return path.read_bytes()

    # -- the OS

    def run_os(self, image: bytes) -> None:
        try:
            boot = parse_boot_image(image)
        except ImageError as exc:
            self.say(f"\ncannot boot: {exc}\n")
            return
        work = self.state / "booted"
        work.mkdir(exist_ok=True)
        (work / "kernel").write_bytes(boot.kernel)
        (work / "ramdisk").write_bytes(boot.ramdisk)
        self.say(f"\nbooting: {len(boot.kernel)} bytes of kernel, {len(boot.ramdisk)} of ramdisk\n")
        serial = ["-chardev", f"serial,id=s0,path={self.uart}", "-serial", "chardev:s0"] if self.uart else ["-serial", "null"]
        argv = [*QEMU[self.arch], "-accel", "tcg", "-m", str(self.memory), "-display", "none", "-monitor", "none",
                "-no-reboot", "-nodefaults", *serial, "-name", f"virtual-phone-{self.state}",
                "-kernel", str(work / "kernel"), "-append", boot.cmdline]
        if boot.ramdisk:
            argv += ["-initrd", str(work / "ramdisk")]
        self.log("qemu: " + " ".join(argv))
        self.qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.qemu.wait()
        self.qemu = None

    def stop(self, *_: object) -> None:
        self.stopping.set()
        if self.qemu is not None:
            self.qemu.terminate()
        self.close_listener()

    # -- the wire

    @staticmethod
    def recv_exact(conn: socket.socket, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            chunk = conn.recv(min(size - len(data), 1 << 20))
            if not chunk:
                raise Disconnected
            data += chunk
        return bytes(data)

    def recv_packet(self, conn: socket.socket) -> bytes:
        (size,) = struct.unpack(">Q", self.recv_exact(conn, 8))
        if size > MAX_DOWNLOAD:
            raise Disconnected
        return self.recv_exact(conn, size)

    @staticmethod
    def reply(conn: socket.socket, kind: str, text: str = "") -> None:
        payload = (kind + text).encode()[:256]
        conn.sendall(struct.pack(">Q", len(payload)) + payload)

    @staticmethod
    def log(text: str) -> None:
        print(text, flush=True)


def daemonize(pidfile: Path) -> None:
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    pidfile.write_text(f"{os.getpid()}\n")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", required=True, help="the phone's storage: flashed partitions live here")
    parser.add_argument("--port", type=int, required=True, help="fastboot TCP port on 127.0.0.1")
    parser.add_argument("--uart", default="", help="the pty the phone's UART writes to")
    parser.add_argument("--arch", choices=sorted(QEMU), default="arm64")
    parser.add_argument("--memory", type=int, default=256)
    parser.add_argument("--serialno", default="virtual-phone")
    parser.add_argument("--fail-partition", action="append", help="answer FAIL to every flash of this partition")
    parser.add_argument("--daemonize", action="store_true")
    parser.add_argument("--pidfile", type=Path)
    args = parser.parse_args()
    phone = Phone(args)
    phone.listen()  # bound before daemonizing: a busy port is an error the caller sees
    if args.daemonize:
        daemonize(args.pidfile or phone.state / "phone.pid")
    elif args.pidfile:
        args.pidfile.write_text(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, phone.stop)
    signal.signal(signal.SIGINT, phone.stop)
    phone.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
