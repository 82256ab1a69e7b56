"""Flash and boot the virtual fastboot phone: by hand with the fastboot CLI, then with lava-run.

By hand: power on (start the phone), ``fastboot flash system``, ``fastboot
flash boot``, ``fastboot reboot``, read the UART until the shell prompt.
lava-run: the same images in ``deploy: to: fastboot`` + ``boot: method:
fastboot`` on a device rendered from fastboot-phone.jinja2, power through the
lab's outlet script. Prints each time and what the dispatcher adds.

usage: PYTHONPATH=. .venv/bin/python benchmarks/boot_fastboot.py [RUNS]
Needs build.sh's and build-android.sh's images (arm64), fastboot, socat, QEMU.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

from lava_scheduler.device_config import render_device_config

REPO = Path(__file__).resolve().parents[1]
VIRTUAL_LAB = REPO / "share" / "virtual-lab"
IMAGES = Path(os.environ.get("LAVA_TEST_IMAGES") or Path.home() / ".cache" / "lava" / "test-images") / "arm64"
PROMPT = b"root@lava:"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bench:
    def __init__(self, work: Path) -> None:
        self.work, self.state = work, work / "lab"
        (self.state / "outlets").mkdir(parents=True)
        self.uart, self.line, self.port = self.state / "uart", self.state / "line", free_port()
        self.socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={self.uart}", f"pty,raw,echo=0,link={self.line}"],
                                      start_new_session=True)
        while not self.line.exists():
            time.sleep(0.02)
        argv = [sys.executable, str(VIRTUAL_LAB / "fastboot_phone.py"), "--state", str(self.state / "phone"),
                "--port", str(self.port), "--uart", str(self.uart), "--arch", "arm64", "--daemonize",
                "--pidfile", str(self.state / "outlets" / "1.pid")]
        (self.state / "outlets" / "1.on").write_text("exec " + shlex.join(argv) + "\n")

    def power(self, how: str) -> None:
        subprocess.run(["sh", str(VIRTUAL_LAB / "board-power.sh"), str(self.state), how, "1"], check=True)

    def fastboot(self, *args: str) -> None:
        subprocess.run(["fastboot", "-s", f"tcp:127.0.0.1:{self.port}", *args], check=True, capture_output=True)

    def by_hand(self) -> float:
        fd = os.open(self.line, os.O_RDONLY | os.O_NONBLOCK)
        start = time.monotonic()
        self.power("on")
        self.fastboot("flash", "system", str(IMAGES / "system.simg"))
        self.fastboot("flash", "boot", str(IMAGES / "boot.img"))
        self.fastboot("reboot")
        seen = b""
        while PROMPT not in seen:
            try:
                seen = (seen + os.read(fd, 65536))[-4096:]
            except BlockingIOError:
                time.sleep(0.01)
            if time.monotonic() - start > 300:
                raise RuntimeError("no prompt within 300 s")
        elapsed = time.monotonic() - start
        os.close(fd)
        self.power("off")
        return elapsed

    def with_lava_run(self) -> tuple[float, float, float]:
        outlet = f"sh {VIRTUAL_LAB / 'board-power.sh'} {self.state}"
        dictionary = (
            "{% extends 'fastboot-phone.jinja2' %}\n"
            f"{{% set connection_command = 'socat STDIO,raw,echo=0 {self.line},raw,echo=0' %}}\n"
            f"{{% set power_on_command = '{outlet} on 1' %}}\n{{% set power_off_command = '{outlet} off 1' %}}\n"
            f"{{% set fastboot_serial_number = 'tcp:127.0.0.1:{self.port}' %}}\n"
            "{% set flash_cmds_order = ['system', 'boot'] %}\n")
        device = self.work / "device.yaml"
        device.write_text(yaml.safe_dump(render_device_config("bench-phone", dictionary, {},
                                                              device_types_paths=[REPO / "device-types"])))
        job = {"job_name": "fastboot benchmark", "device_type": "fastboot-phone", "visibility": "public",
               "timeouts": {"job": {"minutes": 10}, "action": {"minutes": 5}},
               "actions": [
                   {"deploy": {"to": "fastboot", "images": {"system": {"url": f"file://{IMAGES / 'system.simg'}"},
                                                            "boot": {"url": f"file://{IMAGES / 'boot.img'}"}}}},
                   {"boot": {"method": "fastboot", "prompts": ["root@lava:[^#]*# "]}}]}
        (self.work / "job.yaml").write_text(yaml.safe_dump(job))
        (self.work / "dispatcher.yaml").write_text(yaml.safe_dump({"dispatcher_download_dir": str(self.work / "dl")}))
        cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir", str(self.work / "out"),
               "--device", str(device), "--dispatcher", str(self.work / "dispatcher.yaml"), str(self.work / "job.yaml")]
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        total = time.monotonic() - start
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        # the start and end records of the top-level actions 1 (deploy) and 2 (boot)
        stamps: dict[str, datetime] = {}
        for line in proc.stderr.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                words = str(record["msg"]).split()
                if len(words) > 1 and words[0] in ("start:", "end:") and words[1] in ("1", "2"):
                    stamps[words[0] + words[1]] = datetime.fromisoformat(record["dt"])
        durations = {n: (stamps[f"end:{n}"] - stamps[f"start:{n}"]).total_seconds() for n in ("1", "2")}
        return total, durations["1"], durations["2"]

    def close(self) -> None:
        self.power("off")
        os.killpg(self.socat.pid, signal.SIGTERM)
        self.socat.wait()


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    hand, lava, deploy, boot = [], [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lava-fastboot-bench-") as scratch:
            bench = Bench(Path(scratch))
            try:
                hand.append(bench.by_hand())
                total, flash, booted = bench.with_lava_run()
                lava.append(total)
                deploy.append(flash)
                boot.append(booted)
            finally:
                bench.close()
    print(f"runs: {runs} (QEMU arm64 TCG, 2 shared cores)")
    print(f"by hand (power on, fastboot flash x2, fastboot reboot, prompt): median {statistics.median(hand):.1f} s")
    print(f"lava-run (whole job, power-off included): median {statistics.median(lava):.1f} s "
          f"(deploy {statistics.median(deploy):.1f} s, boot to prompt {statistics.median(boot):.1f} s)")
    print(f"dispatcher overhead: {statistics.median(lava) - statistics.median(hand):+.1f} s "
          f"({100 * (statistics.median(lava) / statistics.median(hand) - 1):+.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
