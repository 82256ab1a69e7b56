"""Install from the test installer ISO and boot the installed disk to a shell: QEMU alone, then lava-run.

QEMU alone: the kernel and initrd taken out of the ISO (xorriso), an empty 2 GiB disk, the preseed
on a local HTTP server, the same QEMU command lines lava-run builds (device options from our qemu
template, debian-installer's kernel parameters) until the installer powers off; then the installed
disk until the login prompt, login, shell prompt. lava-run: the same ISO and preseed in
``deploy: to: iso-installer`` + ``boot: method: qemu-iso`` (no test block, so no overlay disk).
Prints each time and what the dispatcher adds.

usage: PYTHONPATH=. .venv/bin/python benchmarks/boot_iso.py [RUNS]
Needs build-iso.sh's ISO (share/test-images/build-iso.sh), xorriso, qemu-system-x86_64.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pexpect
import yaml

from lava_dispatcher.actions.boot.qemu import qemu_command
from lava_dispatcher.actions.boot.qemu_iso import installer_command_line
from lava_dispatcher.device import parse_device
from lava_scheduler.device_config import render_device_config

REPO = Path(__file__).resolve().parents[1]
IMAGES = Path(os.environ.get("LAVA_TEST_IMAGES") or Path.home() / ".cache" / "lava" / "test-images") / "iso" / "x86_64"
ISO, PRESEED = IMAGES / "lava-installer.iso", IMAGES / "preseed.cfg"
ISO_ARG = "-drive file={iso},index=2,media=cdrom,readonly"
PROMPT = "root@debian:"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def qemu_alone(work: Path, device: dict) -> tuple[float, float]:
    """(install seconds, boot-to-shell seconds) with QEMU driven by hand."""
    config = parse_device(device)
    start = time.monotonic()
    for inside in ("/install.amd/vmlinuz", "/install.amd/initrd.gz"):
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(ISO), "-extract", inside, str(work / Path(inside).name)],
                       check=True, capture_output=True)
    disk = work / "hd.img"
    with disk.open("wb") as handle:
        handle.truncate(2 << 30)
    server = ThreadingHTTPServer(("", 0), partial(Quiet, directory=str(PRESEED.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://10.0.2.2:{server.server_address[1]}/{PRESEED.name}"
    argv = qemu_command(config, ["-drive", f"format=raw,file={disk}", *ISO_ARG.replace("{iso}", str(ISO)).split()]) + [
        "-boot", "c", "-no-reboot", "-kernel", str(work / "vmlinuz"), "-initrd", str(work / "initrd.gz"),
        "-append", installer_command_line("ttyS0,115200", url)]
    try:
        installer = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace", timeout=600)
        installer.expect("reboot: Power down")
        installer.expect(pexpect.EOF)
    finally:
        server.shutdown()
        server.server_close()
    installed = time.monotonic() - start
    start = time.monotonic()
    argv = qemu_command(config, ["-drive", f"format=raw,file={disk}", "-boot", "c"])
    board = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace", timeout=600)
    board.expect("login:")
    board.sendline("root")
    board.expect("Password:")
    board.sendline("root")
    board.expect(PROMPT)
    booted = time.monotonic() - start
    board.terminate(force=True)
    return installed, booted


def with_lava_run(work: Path, device: dict) -> tuple[float, float, float, float]:
    """(whole job, deploy, boot, lava-run's own CPU) seconds."""
    (work / "device.yaml").write_text(yaml.safe_dump(device))
    job = {"job_name": "iso benchmark", "device_type": "qemu", "visibility": "public",
           "timeouts": {"job": {"minutes": 30}, "action": {"minutes": 20}},
           "actions": [
               {"deploy": {"to": "iso-installer", "os": "debian_installer",
                           "images": {"iso": {"url": f"file://{ISO}", "image_arg": ISO_ARG},
                                      "preseed": {"url": f"file://{PRESEED}"}},
                           "iso": {"kernel": "/install.amd/vmlinuz", "initrd": "/install.amd/initrd.gz",
                                   "installation_size": "2G"}}},
               {"boot": {"method": "qemu-iso", "media": "img", "prompts": [PROMPT],
                         "auto_login": {"login_prompt": "login:", "username": "root",
                                        "password_prompt": "Password:", "password": "root"}}}]}
    (work / "job.yaml").write_text(yaml.safe_dump(job))
    (work / "dispatcher.yaml").write_text(yaml.safe_dump({"dispatcher_download_dir": str(work / "dl"),
                                                          "dispatcher_ip": "10.0.2.2"}))
    cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir", str(work / "out"),
           "--device", str(work / "device.yaml"), "--dispatcher", str(work / "dispatcher.yaml"), str(work / "job.yaml")]
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        cpu = 0.0
        while proc.poll() is None:
            cpu = own_cpu(proc.pid) or cpu  # its last reading before it exits: lava-run's own, without QEMU
            time.sleep(0.2)
        total = time.monotonic() - start
        log.seek(0)
        stderr = log.read()
    if proc.returncode != 0:
        raise RuntimeError(stderr[-2000:])
    stamps: dict[str, datetime] = {}
    for line in stderr.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            words = str(record["msg"]).split()
            if len(words) > 1 and words[0] in ("start:", "end:") and words[1] in ("1", "2"):
                stamps[words[0] + words[1]] = datetime.fromisoformat(record["dt"])
    durations = {n: (stamps[f"end:{n}"] - stamps[f"start:{n}"]).total_seconds() for n in ("1", "2")}
    return total, durations["1"], durations["2"], cpu


def own_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the process itself, not of its children; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    device = render_device_config("bench-qemu", "{% extends 'qemu.jinja2' %}", {"arch": "amd64"})
    alone, lava, deploy, boot, cpu, qemu_cpu = [], [], [], [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lava-iso-bench-") as scratch:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            installed, booted = qemu_alone(Path(scratch), device)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            alone.append((installed, booted))
            qemu_cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        with tempfile.TemporaryDirectory(prefix="lava-iso-bench-") as scratch:
            total, deployed, boot_time, own = with_lava_run(Path(scratch), device)
            cpu.append(own)
            lava.append(total)
            deploy.append(deployed)
            boot.append(boot_time)
    hand = statistics.median(a + b for a, b in alone)
    print(f"runs: {runs} (QEMU x86_64 TCG, 2 shared cores)")
    print(f"QEMU alone: install median {statistics.median(a for a, _ in alone):.1f} s, installed disk to shell "
          f"{statistics.median(b for _, b in alone):.1f} s, together {hand:.1f} s")
    print(f"lava-run (whole job): median {statistics.median(lava):.1f} s "
          f"(deploy {statistics.median(deploy):.1f} s, install + boot to shell {statistics.median(boot):.1f} s)")
    print(f"CPU: QEMU alone {statistics.median(qemu_cpu):.1f} s; lava-run's own process "
          f"{statistics.median(cpu):.1f} s (its QEMU children not counted)")
    print(f"dispatcher overhead (wall, under load): {statistics.median(lava) - hand:+.1f} s ({100 * (statistics.median(lava) / hand - 1):+.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
