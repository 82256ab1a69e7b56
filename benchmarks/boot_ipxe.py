"""Power-on to login on the virtual iPXE PC, through lava-run and with QEMU alone.

The board is tests/dispatcher/virtual-ipxe/power.sh (SeaBIOS + Debian's iPXE ROM,
kernel and login ramdisk over QEMU's TFTP), the device is rendered from our
``x86`` device type with a 20 ms boot character delay. Two ways to boot:

- typed: the ``ramdisk`` commands typed at ``iPXE>``;
- script: ``use_bootscript``, only ``dhcp`` and ``chain`` typed.

"QEMU alone" is the same machine, ROM and files driven by a bare pexpect script that
types the same commands at the same pace. The overhead is lava-run's power-on to
logged-in shell minus the bare figure, and lava-run's whole wall time (start-up,
deploy, power-off) beside it.

usage: .venv/bin/python benchmarks/boot_ipxe.py [RUNS]   (default 3)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pexpect
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from lava_scheduler.device_config import render_device_config  # noqa: E402  (after sys.path)

POWER = REPO / "tests" / "dispatcher" / "virtual-ipxe" / "power.sh"
IMAGES = Path(os.environ.get("LAVA_TEST_IMAGES", Path.home() / ".cache" / "lava" / "test-images")) / "x86_64"
DELAY_MS = 20
SHELL = r"root@lava:[^#\r\n]*# "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ipxe_commands(kernel: str, ramdisk: str) -> list[str]:
    """The x86 template's ramdisk list, filled as lava-run fills it."""
    config = render_device_config("bench", "{% extends 'x86.jinja2' %}", None, device_types_paths=[REPO / "device-types"])
    commands = config["actions"]["boot"]["methods"]["ipxe"]["ramdisk"]["commands"]
    values = {"{SERVER_IP}": "10.0.2.2", "{KERNEL}": kernel, "{RAMDISK}": ramdisk, "{LAVA_MAC}": "${netX/mac}"}
    for key, value in values.items():
        commands = [c.replace(key, value) for c in commands]
    return commands


def bare_boot(work: Path, script: bool) -> float:
    """Seconds from QEMU's start to a logged-in shell, nothing but pexpect in between."""
    tftp = work / "tftp-bare"
    tftp.mkdir(exist_ok=True)
    for name in ("bzImage", "initramfs-login.cpio.gz"):
        (tftp / name).write_bytes((IMAGES / name).read_bytes())
    commands = ipxe_commands("bzImage", "initramfs-login.cpio.gz")
    if script:
        (tftp / "script.ipxe").write_text("#!ipxe\n\n" + "\n".join(commands) + "\n")
        commands = [commands[0], "chain tftp://10.0.2.2/script.ipxe"]
    argv = ["-machine", "graphics=off", "-accel", "tcg", "-m", "512", "-display", "none", "-monitor", "none",
            "-no-reboot", "-netdev", f"user,id=n0,tftp={tftp}",
            "-device", "e1000,netdev=n0,romfile=/usr/lib/ipxe/qemu/pxe-e1000.rom", "-boot", "n", "-serial", "stdio"]
    started = time.monotonic()
    # the same read size and search window as lava-run's console, so that matching costs the same
    child = pexpect.spawn("qemu-system-x86_64", argv, encoding="utf-8", codec_errors="replace", timeout=120,
                          maxread=4092, searchwindowsize=8184)
    child.delaybeforesend = None  # pexpect sleeps 50 ms before every send by default; lava-run's console does not
    try:
        child.expect("Press Ctrl-B for the iPXE command line")
        child.sendcontrol("b")
        child.expect("iPXE>")
        for index, command in enumerate(commands):
            for char in command + "\n":
                child.send(char)
                time.sleep(DELAY_MS / 1000)
            if index < len(commands) - 1:
                child.expect("iPXE>")
        child.expect("lava login: ")
        child.sendline("root")
        child.expect("Password: ")
        child.sendline("root")
        child.expect(SHELL)
        return time.monotonic() - started
    finally:
        child.terminate(force=True)


def lava_boot(work: Path, script: bool) -> tuple[float, float]:
    """(power-on to the end of the login, lava-run's wall time) in seconds."""
    state, tftp = work / "board", work / "tftp"
    power = f"{POWER} {{}} {state} {free_port()} {tftp}"
    port = power.split()[3]
    dictionary = (
        "{% extends 'x86.jinja2' %}\n"
        f"{{% set connection_command = 'socat STDIO,raw,echo=0 TCP:127.0.0.1:{port},retry=300,interval=0.1' %}}\n"
        f"{{% set power_on_command = '{power.format('on')}' %}}\n"
        f"{{% set power_off_command = '{power.format('off')}' %}}\n"
        f"{{% set boot_character_delay = {DELAY_MS} %}}\n"
    )
    config = render_device_config("bench-ipxe", dictionary, None, device_types_paths=[REPO / "device-types"])
    (work / "device.yaml").write_text(yaml.safe_dump(config))
    (work / "dispatcher.yaml").write_text(yaml.safe_dump(
        {"dispatcher_download_dir": str(work / "dl"), "tftp_root": str(tftp), "dispatcher_ip": "10.0.2.2"}))
    boot = {"method": "ipxe", "commands": "ramdisk", "prompts": [SHELL], "use_bootscript": script,
            "auto_login": {"login_prompt": "lava login: ", "username": "root",
                           "password_prompt": "Password: ", "password": "root"}}
    job = {"job_name": "ipxe benchmark", "device_type": "x86", "visibility": "public",
           "timeouts": {"job": {"minutes": 6}, "action": {"minutes": 3}},
           "actions": [{"deploy": {"to": "tftp", "kernel": {"url": f"file://{IMAGES / 'bzImage'}"},
                                   "ramdisk": {"url": f"file://{IMAGES / 'initramfs-login.cpio.gz'}"}}},
                       {"boot": boot}]}
    (work / "job.yaml").write_text(yaml.safe_dump(job))
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir", str(work / "out"),
         "--device", str(work / "device.yaml"), "--dispatcher", str(work / "dispatcher.yaml"), str(work / "job.yaml")],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=400)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"lava-run failed:\n{proc.stderr[-3000:]}")
    records = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]

    def when(predicate) -> datetime:
        return datetime.fromisoformat(next(r["dt"] for r in records if predicate(r)))

    power_on = when(lambda r: str(r["msg"]).startswith("power-on: running"))
    logged_in = when(lambda r: str(r["msg"]).startswith("end: 2.") and "auto-login-action" in str(r["msg"]))
    return (logged_in - power_on).total_seconds(), wall


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    if not (IMAGES / "bzImage").exists():
        raise SystemExit(f"no test images in {IMAGES}: run share/test-images/build.sh")
    # TCG boots are CPU bound: on a shared machine the fastest of a few runs is the least disturbed one
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"iPXE PC (SeaBIOS + ipxe-qemu e1000 ROM, TCG), {DELAY_MS} ms a character, "
          f"fastest of {runs} run(s) each (load average {load}):")
    for script in (False, True):
        label = "script (use_bootscript)" if script else "typed commands"
        bare, lava, wall = [], [], []
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="lava-ipxe-bench-") as work:
                bare.append(bare_boot(Path(work), script))
            with tempfile.TemporaryDirectory(prefix="lava-ipxe-bench-") as work:
                to_login, total = lava_boot(Path(work), script)
                lava.append(to_login)
                wall.append(total)
        b, lv, w = min(bare), min(lava), min(wall)
        print(f"  {label:24} QEMU alone {b:5.1f} s | lava-run power-on to login {lv:5.1f} s "
              f"(overhead {lv - b:+.1f} s) | lava-run wall time {w:5.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
