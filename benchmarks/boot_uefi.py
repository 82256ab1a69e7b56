"""The UEFI server (OVMF + GRUB EFI over TFTP, power by IPMI): power-on to login, and what the dispatcher adds.

Two runs with the same firmware, GRUB tree, kernel and ramdisk:

- bare: QEMU alone, started directly; a few lines of Python type the GRUB
  commands at ``grub>`` and wait for the login prompt (the least any tool
  could do);
- dispatcher: ``lava-run`` with a ``grub-efi`` job on the lab's board wiring
  (serial pty pair, ``ipmi_sim`` BMC): ``chassis power cycle`` through
  ipmitool, GRUB commands, auto-login, then power-off. Power-on to login is
  read from the job log (reset-device start to the end of auto-login).

usage: .venv/bin/python benchmarks/boot_uefi.py [RUNS]    (PYTHONPATH=. ; takes about a minute a run)
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
sys.path.insert(0, str(REPO / "tests"))
import uefi_board  # noqa: E402
from testimages import LOGIN_PROMPT, PASSWORD, PASSWORD_PROMPT, PROMPT_REGEX, USERNAME, images  # noqa: E402
from uefi_server import UefiServer  # noqa: E402

from lava_scheduler.device_config.render import render_device_yaml  # noqa: E402

COMMANDS = ["net_bootp", "linux (tftp,10.0.2.2)/{kernel} console=ttyS0,115200n8 root=/dev/ram0 ip=dhcp",
            "initrd (tftp,10.0.2.2)/{ramdisk}", "boot"]


def bare_boot(work: Path) -> float:
    """QEMU alone: start to the login prompt, GRUB typed by a minimal script."""
    tftp = work / "bare-tftp"
    uefi_board.grub_netdir(tftp)
    imgs = images().x86_64
    shutil.copy(imgs.kernel, tftp / "bzImage")
    shutil.copy(imgs.initramfs_login, tftp / "initrd.gz")
    shutil.copy(uefi_board.OVMF_VARS, work / "vars.fd")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    qemu = subprocess.Popen([
        "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "512", "-display", "none", "-monitor", "none",
        "-drive", f"if=pflash,format=raw,readonly=on,file={uefi_board.OVMF_CODE}",
        "-drive", f"if=pflash,format=raw,file={work / 'vars.fd'}",
        "-netdev", f"user,id=n0,tftp={tftp},bootfile={uefi_board.BOOTFILE},ipv6=off",
        "-device", "virtio-net-pci,netdev=n0,romfile=", "-boot", "n",
        "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                console = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.05)
        seen = b""

        def wait(text: bytes) -> None:
            nonlocal seen
            deadline = time.monotonic() + 180
            while text not in seen:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"bare boot: no {text!r}")
                seen += console.recv(65536)
            seen = seen[seen.index(text) + len(text):]

        wait(b"grub>")
        for command in COMMANDS:
            console.sendall(command.format(kernel="bzImage", ramdisk="initrd.gz").encode() + b"\n")
            if command != "boot":
                wait(b"grub>")
        wait(LOGIN_PROMPT.encode())
        return time.monotonic() - started
    finally:
        qemu.kill()
        qemu.wait()


def _when(record: dict) -> float:
    return datetime.fromisoformat(record["dt"]).timestamp()


def dispatcher_boot(work: Path) -> tuple[float, float]:
    """lava-run on the lab's wiring: (power-on to login, whole job) in seconds."""
    server = UefiServer(work / "server")
    server.start()
    try:
        device = work / "device.yaml"
        device.write_text(render_device_yaml("uefi-bench", server.dictionary()))
        imgs = images().x86_64
        job = work / "job.yaml"
        job.write_text(yaml.safe_dump({
            "job_name": "boot_uefi benchmark", "device_type": "grub-x86", "visibility": "public",
            "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 4}, "connection": {"minutes": 3}},
            "actions": [
                {"deploy": {"to": "tftp", "kernel": {"url": f"file://{imgs.kernel}"},
                            "ramdisk": {"url": f"file://{imgs.initramfs_login}"}}},
                {"boot": {"method": "grub-efi", "commands": "ramdisk", "prompts": [PROMPT_REGEX],
                          "auto_login": {"login_prompt": LOGIN_PROMPT, "username": USERNAME,
                                         "password_prompt": PASSWORD_PROMPT, "password": PASSWORD}}}]}))
        dispatcher = work / "dispatcher.yaml"
        dispatcher.write_text(yaml.safe_dump({"dispatcher_ip": "10.0.2.2", "tftp_root": str(server.board.tftp_root),
                                              "dispatcher_download_dir": str(work / "dl"), "prefix": "b-"}))
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir",
                               str(work / "out"), "--device", str(device), "--dispatcher", str(dispatcher), str(job)],
                              capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        whole = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"lava-run failed: {proc.stderr[-2000:]}")
        records = [yaml.safe_load(line) for line in proc.stderr.splitlines() if line.startswith("{")]
        if os.environ.get("BOOT_UEFI_LOG"):
            Path(os.environ["BOOT_UEFI_LOG"]).write_text(proc.stderr)
        power_on = next(r for r in records if re.match(r"start: [\d.]+ reset-device", str(r["msg"])))
        logged_in = next(r for r in records if re.match(r"end: [\d.]+ auto-login-action", str(r["msg"])))
        return _when(logged_in) - _when(power_on), whole
    finally:
        server.stop()


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    missing = uefi_board.missing()
    if missing or images() is None:
        print(f"boot_uefi: cannot run here: {missing or 'no test images'}")
        return 1
    bare, ours, whole = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as work:
            bare.append(bare_boot(Path(work)))
        with tempfile.TemporaryDirectory() as work:
            login, job = dispatcher_boot(Path(work))
            ours.append(login)
            whole.append(job)
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"UEFI server (OVMF + GRUB EFI over TFTP), {runs} run(s), medians:")
    print(f"  QEMU alone, start to login prompt:            {b:6.1f} s")
    print(f"  lava-run, IPMI power-on to logged-in shell:   {o:6.1f} s  (dispatcher + BMC add {o - b:+.1f} s)")
    print(f"  lava-run, whole job (deploy ... power-off):   {statistics.median(whole):6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
