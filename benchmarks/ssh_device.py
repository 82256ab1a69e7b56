"""An ssh device: time from lava-run's start to the first test result, against the same command run with ssh
by hand.

The device is a local OpenSSH sshd with a private configuration (share/virtual-lab/ssh_host.py). The job
deploys to ssh (builds the overlay, packs it), boots over ssh (checks the key, copies the overlay with scp,
opens the session, unpacks the overlay) and runs one test case, ``uname -a``. By hand: ``ssh HOST uname -a``
with the same key and options. Prints the median of each over RUNS runs and what the dispatcher adds.

usage: .venv/bin/python benchmarks/ssh_device.py [RUNS]     (needs root, openssh-server)
       .venv/bin/python benchmarks/ssh_device.py --secondary [RUNS]

``--secondary``: the QEMU x86_64 board with dropbear (share/test-images/build-dropbear.sh). Bare: QEMU
started by hand with the same kernel and ramdisk (the key appended as the job's overlay would), polling
``ssh ... true`` until it logs in. Dispatcher: a job that boots the board on its serial console, then logs
in over ssh in a second namespace; the time to the first test result of the ssh session.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
from ssh_host import SshHost, free_port, sshd_available  # noqa: E402

from lava_dispatcher.device import parse_device  # noqa: E402
from lava_dispatcher.ssh_target import ssh_target  # noqa: E402
from lava_dispatcher.test_shell.ramdisk import append_overlay_to_cpio  # noqa: E402
from lava_scheduler.device_config.render import render_device_yaml  # noqa: E402

COMMAND = "uname -a"


def job() -> dict:
    return {
        "job_name": "ssh benchmark", "device_type": "ssh", "visibility": "public",
        "timeouts": {"job": {"minutes": 3}, "connection": {"seconds": 30}},
        "actions": [
            {"deploy": {"to": "ssh"}},
            {"boot": {"method": "ssh", "connection": "ssh", "prompts": [r"ssh-host:[^#\r\n]*# "]}},
            {"test": {"definitions": [{
                "from": "inline", "name": "bench", "path": "inline/bench.yaml",
                "repository": {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "bench"},
                               "run": {"steps": [f"lava-test-case uname --shell {COMMAND}"]}},
            }]}},
        ],
    }


def first_result_seconds(work: Path, device: Path, run: int, definition: dict | None = None) -> tuple[float, float]:
    """(seconds to the first test result, seconds to the end of lava-run) for one job."""
    job_path = work / "job.yaml"
    job_path.write_text(yaml.safe_dump(definition or job()))
    dispatcher = work / "dispatcher.yaml"
    dispatcher.write_text(yaml.safe_dump({"dispatcher_download_dir": str(work / "dl"), "prefix": "bench-"}))
    command = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", str(run), "--output-dir",
               str(work / f"out-{run}"), "--device", str(device), "--dispatcher", str(dispatcher), str(job_path)]
    started = time.monotonic()
    first = None
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    for line in proc.stderr:
        if first is None and line.startswith("{"):
            record = json.loads(line)
            if record.get("lvl") == "results" and record["msg"].get("definition") != "lava":
                first = time.monotonic() - started
    proc.wait()
    total = time.monotonic() - started
    if proc.returncode != 0 or first is None:
        raise SystemExit(f"lava-run failed (exit {proc.returncode}); see {work / f'out-{run}'}")
    return first, total


def by_hand_seconds(device: Path) -> float:
    target = ssh_target(parse_device(yaml.safe_load(device.read_text())))
    started = time.monotonic()
    subprocess.run(target.ssh_argv(COMMAND), check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - started


def secondary(runs: int) -> int:
    """Power-on to an ssh login on the dropbear board: bare QEMU against the dispatcher."""
    images = Path(os.environ.get("LAVA_TEST_IMAGES") or Path.home() / ".cache" / "lava" / "test-images") / "x86_64"
    kernel, ramdisk = images / "bzImage", images / "initramfs-dropbear.cpio.gz"
    if not ramdisk.exists():
        print(f"cannot run: {ramdisk} is missing (share/test-images/build-dropbear.sh)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="lava-ssh-bench-"))
    key = work / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    port = free_port()
    device = work / "device.yaml"
    device.write_text(render_device_yaml("qemu-ssh-bench", (
        "{% extends 'qemu.jinja2' %}{% set memory = 256 %}{% set ssh_host = '127.0.0.1' %}"
        f"{{% set ssh_port = {port} %}}{{% set ssh_identity_file = '{key}' %}}"
        f"{{% set netdevice = 'user,hostfwd=tcp:127.0.0.1:{port}-:22' %}}")))
    target = ssh_target(parse_device(yaml.safe_load(device.read_text())))
    # bare: the same ramdisk with the key in it, as `authorize: ssh` puts it
    tree = work / "overlay" / "root" / ".ssh"
    tree.mkdir(parents=True)
    (tree / "authorized_keys").write_text(Path(f"{key}.pub").read_text())
    append_overlay_to_cpio(ramdisk, work / "overlay", work / "ramdisk.cpio.gz")
    qemu = ["qemu-system-x86_64", "-accel", "tcg", "-nographic", "-m", "256", "-monitor", "none",
            "-net", "nic,model=virtio", "-net", f"user,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-kernel", str(kernel), "-initrd", str(work / "ramdisk.cpio.gz"), "-append", "console=ttyS0"]

    def bare_login() -> float:
        started = time.monotonic()
        board = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while subprocess.run(target.probe_argv(5), capture_output=True, stdin=subprocess.DEVNULL).returncode:
                if time.monotonic() - started > 300:
                    raise SystemExit("the bare board never took an ssh login")
                time.sleep(0.2)
            return time.monotonic() - started
        finally:
            board.kill()
            board.wait()

    board_prompt = r"root@lava:[^#\r\n]*# "
    secondary_job = {
        "job_name": "secondary benchmark", "device_type": "qemu", "visibility": "public", "context": {"arch": "amd64"},
        "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 4}, "connection": {"minutes": 3}},
        "actions": [
            {"deploy": {"namespace": "board", "to": "tmpfs", "authorize": "ssh", "images": {
                "kernel": {"url": f"file://{kernel}", "image_arg": "-kernel {kernel} -append 'console=ttyS0'"},
                "ramdisk": {"url": f"file://{ramdisk}", "image_arg": "-initrd {ramdisk}", "format": "cpio.newc"}}}},
            {"boot": {"namespace": "board", "method": "qemu", "media": "tmpfs", "prompts": [board_prompt]}},
            {"deploy": {"namespace": "guest", "to": "ssh"}},
            {"boot": {"namespace": "guest", "method": "ssh", "prompts": [board_prompt]}},
            {"test": {"namespace": "guest", "definitions": job()["actions"][2]["test"]["definitions"]}},
        ],
    }
    bares, timings = [], []
    for run in range(1, runs + 1):  # alternated, so that a burst of load on the machine hits both
        bares.append(bare_login())
        timings.append(first_result_seconds(work, device, run, secondary_job))
    bare = statistics.median(bares)
    first = statistics.median(t[0] for t in timings)
    total = statistics.median(t[1] for t in timings)
    print(f"runs: {runs} (medians)")
    print(f"bare QEMU power-on to an ssh login:                {bare:6.2f} s")
    print(f"lava-run start to the first test result over ssh:   {first:6.2f} s")
    print(f"lava-run start to its end:                          {total:6.2f} s")
    print(f"what the dispatcher adds: {first - bare:6.2f} s (start-up, overlay, boot waits, key check, copy, session)")
    shutil.rmtree(work)
    return 0


def main() -> int:
    args = sys.argv[1:]
    runs = int(args[-1]) if args and args[-1].isdigit() else 3
    if args[:1] == ["--secondary"]:
        return secondary(runs)
    why_not = sshd_available()
    if why_not:
        print(f"cannot run: {why_not}")
        return 1
    work = Path(tempfile.mkdtemp(prefix="lava-ssh-bench-"))
    host = SshHost(work / "sshd")
    host.start()
    try:
        results_dir = work / "host-root"
        device = work / "device.yaml"
        device.write_text(render_device_yaml("ssh-bench-01", host.dictionary(
            extra=f"{{% set lava_test_results_dir = '{results_dir}/lava-%s' %}}\n")))
        hand = [by_hand_seconds(device) for _ in range(runs)]
        timings = [first_result_seconds(work, device, run) for run in range(1, runs + 1)]
    finally:
        host.stop()
    first = statistics.median(t[0] for t in timings)
    total = statistics.median(t[1] for t in timings)
    bare = statistics.median(hand)
    print(f"runs: {runs} (medians)")
    print(f"ssh by hand, '{COMMAND}':                 {bare:6.2f} s")
    print(f"lava-run start to the first test result:  {first:6.2f} s")
    print(f"lava-run start to its end:                {total:6.2f} s")
    print(f"what the dispatcher adds before the result: {first - bare:6.2f} s "
          "(start-up, overlay, key check, scp, session, unpack, test runner)")
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
