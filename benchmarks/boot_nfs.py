"""Power-on to login with a network root: the lab's NFS board (U-Boot + NFS) and an NBD root (QEMU),
through lava-run and with QEMU alone on the same files; what the dispatcher adds.

usage: .venv/bin/python benchmarks/boot_nfs.py [RUNS]

- U-Boot + NFS: QEMU arm64 with Debian's U-Boot; kernel and netroot ramdisk over TFTP, root on nfs-ganesha.
  Bare: the rendered `nfs` command list typed by pexpect (no ser2net, no PDU: QEMU on stdio).
  lava-run: `to: tftp` + `nfsrootfs` + `boot: u-boot commands: nfs`, board powered by a script, console
  on a TCP socket; measured from the power-on command to the end of the login (from the job log),
  and the whole job (deploy included: the root filesystem is unpacked for each job).
- NBD: QEMU arm64 `-kernel -initrd -drive file=nbd://` with root=/dev/vda. Bare: nbd-server and QEMU
  started by hand; lava-run: `to: nbd` (its own nbd-server) + `boot: qemu`.

Needs the images of share/test-images/build.sh and build-netroot.sh, qemu-system-aarch64,
u-boot-qemu, nfs-ganesha and nbd-server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pexpect
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
from nfs_server import GaneshaServer  # noqa: E402

IMAGES = Path(os.environ.get("LAVA_TEST_IMAGES") or Path.home() / ".cache" / "lava" / "test-images") / "arm64"
UBOOT = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
POWER = REPO / "tests" / "dispatcher" / "virtual-uboot" / "power.sh"
PROMPT = r"root@lava:[^#\r\n]*# "
QEMU = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg", "-m", "512",
        "-nographic", "-no-reboot"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render(dictionary: str, arch: str | None = None) -> dict:
    sys.path.insert(0, str(REPO))
    from lava_scheduler.device_config import render_device_config

    return render_device_config("bench-01", dictionary, job_context={"arch": arch} if arch else None,
                                device_types_paths=[REPO / "device-types"])


def lava_run(work: Path, job: dict, device: dict, dispatcher: dict) -> tuple[float, float]:
    """(power-on to login, whole job) in seconds, from lava-run's own log."""
    for name, data in (("job.yaml", job), ("device.yaml", device), ("dispatcher.yaml", dispatcher)):
        (work / name).write_text(yaml.safe_dump(data))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir",
                           str(work / "out"), "--device", str(work / "device.yaml"), "--dispatcher",
                           str(work / "dispatcher.yaml"), str(work / "job.yaml")],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    whole = time.monotonic() - started
    records = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        raise SystemExit(f"lava-run failed: {proc.stderr[-1500:]}")

    def when(pattern: str) -> datetime:
        record = next(r for r in records if isinstance(r["msg"], str) and re.match(pattern, r["msg"]))
        return datetime.fromisoformat(record["dt"])

    power_on = when(r"start: [\d.]+ (reset-device|boot-qemu-image)")
    login = when(r"end: [\d.]+ auto-login-action")
    steps = {}
    for record in records:
        found = re.match(r"(start|end): (2\.\d+) (\S+)", str(record["msg"]))
        if found:
            steps.setdefault(found.group(3), {})[found.group(1)] = datetime.fromisoformat(record["dt"])
    print("    lava-run boot steps: " + ", ".join(
        f"{name} {(t['end'] - t['start']).total_seconds():.1f} s" for name, t in steps.items() if len(t) == 2))
    return (login - power_on).total_seconds(), whole


def bare(argv: list[str], steps) -> float:
    started = time.monotonic()
    board = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", timeout=120, codec_errors="replace")
    try:
        steps(board)
        board.expect(PROMPT)
        return time.monotonic() - started
    finally:
        board.close(force=True)


def uboot_nfs(runs: int, work: Path) -> tuple[list[float], list[float], list[float]]:
    ganesha = GaneshaServer(work / "nfs", free_port(), work / "ganesha")
    ganesha.start()
    try:
        tftp = work / "tftp"
        tftp.mkdir()
        shutil.copy(IMAGES / "Image", tftp / "Image")
        shutil.copy(IMAGES / "netroot.cpio.gz", tftp / "netroot.cpio.gz")
        rootfs = work / "nfs" / "bare"
        rootfs.mkdir(parents=True)
        with tarfile.open(IMAGES / "rootfs.tar.gz") as archive:
            archive.extractall(rootfs, filter="fully_trusted")  # our own image
        port = free_port()
        power = f"{POWER} %s {work / 'board'} {port} {tftp}"
        dictionary = ("{% extends 'qemu-uboot-arm64.jinja2' %}\n"
                      f"{{% set connection_command = 'socat STDIO,raw,echo=0 TCP:127.0.0.1:{port},retry=300,interval=0.1' %}}\n"
                      f"{{% set power_on_command = '{power % 'on'}' %}}\n{{% set power_off_command = '{power % 'off'}' %}}\n"
                      "{% set uboot_tftp_server_ip = '10.0.2.2' %}\n"
                      f"{{% set extra_nfsroot_args = 'port={ganesha.port}' %}}\n")
        device = render(dictionary)
        uboot = device["actions"]["boot"]["methods"]["u-boot"]
        addresses = device["parameters"]["booti"]
        values = {"KERNEL_ADDR": addresses["kernel"], "RAMDISK_ADDR": addresses["ramdisk"], "DTB_ADDR": addresses["dtb"],
                  "KERNEL": "Image", "RAMDISK": "netroot.cpio.gz", "NFS_SERVER_IP": "10.0.2.2", "NFSROOTFS": str(rootfs),
                  "BOOTX": f"booti {addresses['kernel']} {addresses['ramdisk']}:${{initrd_size}} {addresses['dtb']}"}
        commands = [re.sub(r"\{([A-Z_]+)\}", lambda m: values[m.group(1)], c) for c in uboot["nfs"]["commands"]]

        def type_commands(board: pexpect.spawn) -> None:
            board.expect("Hit any key to stop autoboot")
            board.send(" ")
            for command in commands:
                board.expect("=>")
                board.sendline(command)

        argv = [*QEMU, "-bios", str(UBOOT), "-netdev", f"user,id=n0,tftp={tftp}", "-device", "virtio-net-pci,netdev=n0"]
        job = {"job_name": "bench u-boot nfs", "device_type": "qemu-uboot-arm64", "visibility": "public",
               "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 3}},
               "actions": [{"deploy": {"to": "tftp", "kernel": {"url": f"file://{IMAGES / 'Image'}", "type": "image"},
                                       "ramdisk": {"url": f"file://{IMAGES / 'netroot.cpio.gz'}"},
                                       "nfsrootfs": {"url": f"file://{IMAGES / 'rootfs.tar.gz'}", "compression": "gz"}}},
                           {"boot": {"method": "u-boot", "commands": "nfs", "prompts": [PROMPT]}}]}
        dispatcher = {"dispatcher_download_dir": str(work / "dl"), "tftp_root": str(tftp), "prefix": "b-",
                      "dispatcher_ip": "10.0.2.2", "dispatcher_nfs_ip": "10.0.2.2", "nfs_root": str(work / "nfs")}
        bare(argv, type_commands)  # warm-up: the first boot reads the files from disk
        bares, boots, wholes = [], [], []
        for _ in range(runs):
            bares.append(bare(argv, type_commands))
            boot, whole = lava_run(work, job, device, dispatcher)
            boots.append(boot)
            wholes.append(whole)
        return bares, boots, wholes
    finally:
        ganesha.stop()


def nbd(runs: int, work: Path) -> tuple[list[float], list[float], list[float]]:
    image = work / "root.ext4"
    shutil.copy(IMAGES / "rootfs.ext4", image)
    port = free_port()
    (work / "nbd.conf").write_text(f"[generic]\nport = {port}\n[lava]\nexportname = {image}\n")
    subprocess.run(["nbd-server", "-C", str(work / "nbd.conf"), "-p", str(work / "nbd.pid")], check=True)
    try:
        time.sleep(0.5)
        argv = [*QEMU, "-kernel", str(IMAGES / "Image"), "-initrd", str(IMAGES / "netroot.cpio.gz"),
                "-drive", f"file=nbd://127.0.0.1:{port}/lava,format=raw,if=virtio",
                "-append", "console=ttyAMA0,115200 root=/dev/vda rw"]
        device = render("{% extends 'qemu.jinja2' %}\n{% set memory = 512 %}\n", arch="arm64")
        job = {"job_name": "bench nbd", "device_type": "qemu", "visibility": "public", "context": {"arch": "arm64"},
               "protocols": {"lava-xnbd": {"port": "auto"}},
               "timeouts": {"job": {"minutes": 6}, "action": {"minutes": 3}},
               "actions": [{"deploy": {"to": "nbd", "kernel": {"url": f"file://{IMAGES / 'Image'}", "type": "image"},
                                       "initrd": {"url": f"file://{IMAGES / 'netroot.cpio.gz'}"},
                                       "nbdroot": {"url": f"file://{IMAGES / 'rootfs.ext4'}"}}},
                           {"boot": {"method": "qemu", "media": "tmpfs", "prompts": [PROMPT]}}]}
        dispatcher = {"dispatcher_download_dir": str(work / "dl"), "tftp_root": str(work / "tftp-nbd"), "prefix": "b-"}
        bare(argv, lambda board: None)  # warm-up, as above
        bares, boots, wholes = [], [], []
        for _ in range(runs):
            bares.append(bare(argv, lambda board: None))
            boot, whole = lava_run(work, job, device, dispatcher)
            boots.append(boot)
            wholes.append(whole)
        return bares, boots, wholes
    finally:
        subprocess.run(["kill", (work / "nbd.pid").read_text().strip()], check=False)


def report(name: str, bares: list[float], boots: list[float], wholes: list[float]) -> None:
    b, d, w = statistics.median(bares), statistics.median(boots), statistics.median(wholes)
    print(f"{name}: QEMU alone {b:.1f} s; lava-run power-on to login {d:.1f} s (+{d - b:.1f} s, "
          f"{(d - b) / b * 100:+.0f}%); whole lava-run job {w:.1f} s  [{len(bares)} run(s)]")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    for tool in ("qemu-system-aarch64", "ganesha.nfsd", "nbd-server"):
        if not shutil.which(tool):
            print(f"{tool} is not installed")
            return 2
    if not (IMAGES / "netroot.cpio.gz").is_file() or not UBOOT.is_file():
        print("run share/test-images/build.sh and build-netroot.sh first; u-boot-qemu is needed")
        return 2
    with tempfile.TemporaryDirectory(prefix="boot-nfs-") as tmp:
        work = Path(tmp)
        (work / "nfs-board").mkdir()
        (work / "nbd").mkdir()
        report("U-Boot + NFS root (nfs-arm64-01)", *uboot_nfs(runs, work / "nfs-board"))
        report("NBD root (QEMU + nbd-server)", *nbd(runs, work / "nbd"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
