"""Disk images with the test overlay: the time to write it in, and the disk board's boot to a shell.

usage: .venv/bin/python benchmarks/overlay_image.py [RUNS]

Prints, for the disk board of share/test-images/build-disk.sh (x86_64, root on partition 2):
  * the overlay written into partition 2 of the qcow2 disk (qcow2 -> raw, debugfs, raw -> qcow2)
    and of the raw disk (debugfs only), and an overlay disk built with mke2fs -d (+ qcow2);
  * libguestfs doing the same (guestfish copy-in) when it is installed, for comparison;
  * power-on to shell prompt: QEMU alone, then the whole lava-run job (deploy + boot + a one-case
    test), so what the dispatcher adds shows.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import pexpect  # noqa: E402
import yaml  # noqa: E402
from testimages import PROMPT_REGEX, disk_images  # noqa: E402

from lava_dispatcher import disk_image  # noqa: E402


def overlay_tree(root: Path) -> Path:
    """About the size of a real test overlay: 60 small scripts in a few folders."""
    for index in range(60):
        folder = root / "lava-1" / ("bin" if index < 30 else f"0/tests/{index % 3}_def")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"lava-script-{index}").write_text("#!/bin/sh\necho $0\n" * 20)
    return root


def timed(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        action()
        times.append(time.monotonic() - started)
    return statistics.median(times)


def write_into(image: Path, tree: Path, partition: int) -> None:
    with disk_image.with_raw_image(image) as raw:
        disk_image.write_tree(raw, tree, disk_image.filesystem_offset(raw, partition, "bench"))


def guestfish(image: Path, tree: Path) -> None:
    subprocess.run(["guestfish", "--rw", "-a", str(image), "-m", "/dev/sda2", "copy-in", str(tree / "lava-1"), "/"],
                   check=True, capture_output=True,
                   env={**os.environ, "LIBGUESTFS_BACKEND": "direct", "LIBGUESTFS_BACKEND_SETTINGS": "force_tcg"})


def bare_boot(imgs, disk: Path) -> float:
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", str(imgs.kernel), "-initrd", str(imgs.initramfs),
            "-append", f"console=ttyS0 panic=-1 root={imgs.root_device} rw",
            "-drive", f"format=qcow2,file={disk},if=virtio,snapshot=on"]
    started = time.monotonic()
    child = pexpect.spawn(argv[0], argv[1:], timeout=180)
    try:
        child.expect(PROMPT_REGEX)
        return time.monotonic() - started
    finally:
        child.terminate(force=True)


def lava_run_job(imgs, work: Path) -> float:
    device = yaml.safe_load((REPO / "tests/dispatcher/devices/qemu-x86_64.yaml").read_text())
    device["actions"]["deploy"]["methods"]["image"]["parameters"]["guest"] = {"size": 16, "interface": "virtio"}
    (work / "device.yaml").write_text(yaml.safe_dump(device))
    append = f"console=ttyS0 panic=-1 root={imgs.root_device} rw"
    job = {
        "job_name": "bench", "device_type": "qemu", "visibility": "public",
        "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 3}}, "context": {"arch": "amd64"},
        "actions": [
            {"deploy": {"to": "tmpfs", "images": {
                "kernel": {"url": f"file://{imgs.kernel}", "image_arg": f"-kernel {{kernel}} -append '{append}'"},
                "loader": {"url": f"file://{imgs.initramfs}", "image_arg": "-initrd {loader}"},
                "rootfs": {"url": f"file://{imgs.disk_qcow2}", "format": "qcow2", "partition": 1,
                           "overlays": {"lava": True}, "image_arg": "-drive format=qcow2,file={rootfs},if=virtio"},
            }}},
            {"boot": {"method": "qemu", "media": "tmpfs", "prompts": [PROMPT_REGEX]}},
            {"test": {"definitions": [{"from": "inline", "name": "one", "path": "inline/one.yaml", "repository": {
                "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "one"},
                "run": {"steps": ["lava-test-case ok --shell true"]}}}]}},
        ],
    }
    (work / "job.yaml").write_text(yaml.safe_dump(job))
    (work / "dispatcher.yaml").write_text(yaml.safe_dump({"dispatcher_download_dir": str(work / "dl")}))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir",
                           str(work / "out"), "--device", str(work / "device.yaml"), "--dispatcher",
                           str(work / "dispatcher.yaml"), str(work / "job.yaml")],
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"lava-run failed: {proc.stderr[-1500:]}")
    return time.monotonic() - started


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    try:
        imgs = disk_images()
    except BaseException as exc:  # noqa: BLE001 - pytest.skip's exception: the images cannot be built here
        print(f"disk test images unavailable: {exc}")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        tree = overlay_tree(work / "tree")
        qcow2, raw = work / "disk.qcow2", work / "disk.img"
        shutil.copy(imgs.disk_qcow2, qcow2)
        shutil.copy(imgs.disk_raw, raw)
        print(f"overlay into partition 2 of the qcow2 disk (convert, debugfs, convert): "
              f"{timed(runs, lambda: write_into(qcow2, tree, 1)) * 1000:.0f} ms (median of {runs})")
        print(f"overlay into partition 2 of the raw disk (debugfs):                      "
              f"{timed(runs, lambda: write_into(raw, tree, 1)) * 1000:.0f} ms")

        def overlay_disk() -> None:
            disk_image.make_filesystem(tree / "lava-1", work / "guest.img", 512)
            disk_image.convert(work / "guest.img", work / "guest.qcow2", "raw", "qcow2")

        print(f"overlay disk, 512 MiB ext2 (mke2fs -d, then qcow2):                      "
              f"{timed(runs, overlay_disk) * 1000:.0f} ms")
        if shutil.which("guestfish"):
            print(f"libguestfs copy-in into the raw disk:                                    "
                  f"{timed(1, lambda: guestfish(raw, tree)):.1f} s (one run)")
        else:
            print("libguestfs: not installed (the reference's way: ~26 s a call here, virtual-peers.md)")
        print(f"power-on to shell, QEMU alone (disk board, qcow2 root):                  {bare_boot(imgs, qcow2):.1f} s")
        print(f"whole lava-run job (deploy + overlay + boot + one test case):            "
              f"{lava_run_job(imgs, work):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
