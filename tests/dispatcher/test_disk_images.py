"""Disk images that carry the test overlay, and downloads through a proxy.

Unit tests on partition tables and e2fsprogs writes; real runs of lava-run: a qcow2 disk fetched
through a real squid (xz + sha256sum) whose ext4 partition receives the overlay, a raw disk left
untouched with the overlay on a disk of its own, and the errors named (missing partition, checksum
mismatch, unreachable server).
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import lzma
import os
import shutil
import socket
import struct
import subprocess
import tarfile
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from testimages import PROMPT_REGEX, disk_images, require_qemu

from lava_common.exceptions import JobError
from lava_dispatcher import disk_image
from lava_dispatcher.actions.deploy.download import DownloadAction, proxies
from lava_dispatcher.actions.deploy.overlay import (
    LAVA_OVERLAY,
    ApplyOverlayAction,
    ImageOverlays,
    TreeOverlay,
)
from lava_dispatcher.actions.deploy.qcow2_convert import Qcow2ToRaw, converts_to_raw
from lava_dispatcher.context import OverlayInfo

from .helpers import HERE, job_result, results, run_lava
from .qemu_jobs import inline
from .test_download import _ctx

needs_e2fsprogs = pytest.mark.skipif(not (shutil.which("debugfs") or Path("/sbin/debugfs").exists()),
                                     reason="e2fsprogs (debugfs, mke2fs) not installed")


def _mbr(entries: list[tuple[int, int, int]]) -> bytes:
    sector = bytearray(512)
    for slot, (kind, first, count) in enumerate(entries):
        struct.pack_into("<4xB3xII", sector, 446 + 16 * slot, kind, first, count)
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def test_mbr_primary_and_logical_partitions(tmp_path):
    disk = tmp_path / "disk.img"
    with disk.open("wb") as out:
        out.write(_mbr([(0x83, 2048, 100), (0x05, 4096, 1000), (0x83, 8192, 50)]))
        out.seek(4096 * 512)  # first EBR: a logical at +63, and a link to the next EBR at +500
        out.write(_mbr([(0x83, 63, 10), (0x05, 500, 100)]))
        out.seek((4096 + 500) * 512)
        out.write(_mbr([(0x83, 63, 20)]))
    found = disk_image.partitions(disk)
    assert [(p.number, p.start // 512, p.size // 512) for p in found] == [
        (1, 2048, 100), (3, 8192, 50), (5, 4096 + 63, 10), (6, 4096 + 500 + 63, 20)]
    assert disk_image.filesystem_offset(disk, 2, "images.rootfs.partition") == (4096 + 63) * 512
    with pytest.raises(JobError, match=r"images.rootfs.partition: the image 'disk.img' has no partition 4 "):
        disk_image.filesystem_offset(disk, 4, "images.rootfs.partition")


def test_gpt_partitions(tmp_path):
    disk = tmp_path / "gpt.img"
    with disk.open("wb") as out:
        out.write(_mbr([(0xEE, 1, 0xFFFFFFFF)]))
        header = bytearray(92)
        header[:8] = b"EFI PART"
        struct.pack_into("<QII", header, 72, 2, 128, 128)
        out.write(bytes(header))
        out.seek(2 * 512)
        table = bytearray(128 * 4)
        for index, (first, last) in ((0, (34, 99)), (2, (100, 299))):  # entry 2 empty: numbers 1 and 3
            table[index * 128:index * 128 + 16] = b"\x01" * 16
            struct.pack_into("<QQ", table, index * 128 + 32, first, last)
        out.write(bytes(table))
    assert [(p.number, p.start // 512, p.size // 512) for p in disk_image.partitions(disk)] == [
        (1, 34, 66), (3, 100, 200)]


def test_no_partition_table_names_the_image(tmp_path):
    blank = tmp_path / "blank.img"
    blank.write_bytes(b"\0" * 4096)
    with pytest.raises(JobError, match="'blank.img' has no partition 0 .*no partition table"):
        disk_image.filesystem_offset(blank, 0, "images.rootfs.partition")
    assert disk_image.filesystem_offset(blank, None, "x") == 0


@needs_e2fsprogs
def test_write_tree_into_a_partition_then_fsck(tmp_path):
    fs = tmp_path / "fs.ext4"
    (tmp_path / "empty").mkdir()
    disk_image.make_filesystem(tmp_path / "empty", fs, 8, "ext4")
    disk = tmp_path / "disk.img"
    disk.write_bytes(_mbr([(0x83, 2048, 16384)]) + b"\0" * (2047 * 512) + fs.read_bytes())
    tree = tmp_path / "tree"
    (tree / "lava-7" / "bin").mkdir(parents=True)
    (tree / "lava-7" / "bin" / "lava-test-runner").write_text("#!/bin/sh\necho run\n")
    (tree / "lava-7" / "bin" / "lava-test-runner").chmod(0o755)
    (tree / "lava-7" / "a name with spaces").write_text("x")
    (tree / "lava-7" / "link").symlink_to("bin/lava-test-runner")
    offset = disk_image.filesystem_offset(disk, 0, "p")
    disk_image.write_tree(disk, tree, offset)
    disk_image.write_tree(disk, tree, offset)  # twice: existing files and folders are replaced, not an error
    target = f"{disk}?offset={offset}"
    listing = subprocess.run(["debugfs", "-R", "ls -l /lava-7/bin", target], capture_output=True, text=True).stdout
    assert "100755" in listing and "lava-test-runner" in listing
    cat = subprocess.run(["debugfs", "-R", "cat /lava-7/bin/lava-test-runner", target], capture_output=True, text=True)
    assert cat.stdout == "#!/bin/sh\necho run\n"
    assert subprocess.run(["e2fsck", "-fn", target], capture_output=True).returncode == 0
    with pytest.raises(JobError, match="cannot write into the filesystem of 'disk.img' \\(not ext2/3/4"):
        disk_image.write_tree(disk, tree, 0)  # the MBR is not a filesystem


def test_proxies_from_the_dispatcher_configuration():
    assert proxies({"http_proxy": "http://p:3128", "HTTPS_PROXY": "http://s:3128", "no_proxy": "lab"}) == {
        "http": "http://p:3128", "https": "http://s:3128", "no": "lab"}
    assert proxies({}) == {}


def test_zip_and_tar_archives(tmp_path):
    payload = b"firmware" * 1000
    with zipfile.ZipFile(tmp_path / "fw.bin.zip", "w") as archive:
        archive.writestr("fw.bin", payload)
    with tarfile.open(tmp_path / "modules.tar.gz", "w:gz") as archive:
        (tmp_path / "m").mkdir()
        (tmp_path / "m" / "a.ko").write_bytes(b"ko")
        archive.add(tmp_path / "m" / "a.ko", arcname="lib/a.ko")
    ctx = _ctx(tmp_path)
    DownloadAction("fw", {"url": f"file://{tmp_path}/fw.bin.zip", "compression": "zip"}).run(ctx)
    assert ctx.downloaded["fw"].read_bytes() == payload and ctx.downloaded["fw"].name == "fw.bin"
    DownloadAction("mods", {"url": f"file://{tmp_path}/modules.tar.gz", "archive": "tar"}).run(ctx)
    assert (ctx.downloaded["mods"] / "lib" / "a.ko").read_bytes() == b"ko"
    (tmp_path / "two.zip").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("a", "1")
        archive.writestr("b", "2")
    with pytest.raises(JobError, match="must hold exactly one file, not 2"):
        DownloadAction("two", {"url": f"file://{tmp_path}/two.zip", "compression": "zip"}).run(ctx)


def test_qcow2_image_given_to_qemu_as_raw_is_converted(tmp_path):
    """kvm-qcow2.yaml: ``format: qcow2`` with ``image_arg: -drive format=raw,...``; the reference converts."""
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img (qemu-utils) is not installed")
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * 510 + b"\x55\xaa" + b"boot" * 1024)
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(tmp_path / "d.qcow2")],
                   check=True)
    as_raw = {"url": f"file://{tmp_path}/d.qcow2", "format": "qcow2", "image_arg": "-drive format=raw,file={rootfs}"}
    assert converts_to_raw(as_raw) and converts_to_raw({"format": "qcow2", "image_arg": "-hda {rootfs}"})
    assert not converts_to_raw({**as_raw, "image_arg": "-drive format=qcow2,file={rootfs}"})
    assert not converts_to_raw({**as_raw, "format": "raw"})
    ctx = _ctx(tmp_path)
    DownloadAction("rootfs", as_raw).run(ctx)
    Qcow2ToRaw("rootfs").run(ctx)
    converted = ctx.downloaded["rootfs"]
    assert converted.name == "d.img" and converted.read_bytes() == raw.read_bytes()
    assert not (converted.parent / "d.qcow2").exists()
    # a file that is not qcow2 after all: a Job error naming it, not a raw copy of the wrong bytes
    (tmp_path / "fake.qcow2").write_bytes(b"not a qcow2 image")
    DownloadAction("fake", {"url": f"file://{tmp_path}/fake.qcow2"}).run(ctx)
    with pytest.raises(JobError, match="cannot convert 'fake.qcow2' from qcow2 to raw"):
        Qcow2ToRaw("fake").run(ctx)


# --- real runs ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_files(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _start_squid(binary: str, folder: Path) -> tuple[subprocess.Popen, int, str]:
    """squid on a fresh port; (process, port, "") once it listens, or (process, 0, why) if it exited."""
    port = _free_port()
    (folder / "squid.conf").write_text("\n".join([
        f"http_port 127.0.0.1:{port}", f"pid_filename {folder}/squid.pid",
        f"access_log stdio:{folder}/access.log", f"cache_log {folder}/cache.log", "cache_store_log none",
        "cache deny all", f"coredump_dir {folder}", "pinger_enable off", "shutdown_lifetime 1 seconds",
        "http_access allow localhost", "http_access deny all", "",
    ]))
    with (folder / "stderr").open("wb") as stderr:
        proc = subprocess.Popen([binary, "-N", "-f", str(folder / "squid.conf")],
                                stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port, ""
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    return proc, 0, (folder / "stderr").read_text()[-1000:] or (folder / "cache.log").read_text()[-1000:]


@pytest.fixture
def squid():
    """A real squid on a free port with its own configuration; yields (proxy URL, access log)."""
    binary = shutil.which("squid") or ("/usr/sbin/squid" if Path("/usr/sbin/squid").exists() else None)
    if binary is None:
        pytest.skip("squid is not installed (apt-get install squid)")
    # squid started as root works as its own user, which cannot enter pytest's private tmp folders
    folder = Path(tempfile.mkdtemp(prefix="lava-squid-", dir="/var/tmp" if Path("/var/tmp").is_dir() else None))
    folder.chmod(0o777)
    for _ in range(3):  # another test may take the free port before squid binds it
        proc, port, why = _start_squid(binary, folder)
        if port:
            break
    else:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"squid did not start: {why}")
    try:
        yield f"http://127.0.0.1:{port}", folder / "access.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    assert _gone(str(folder / "squid.conf")), "squid left a process behind"


def _log_count(access_log: Path, needle: str, settle: float = 10.0) -> int:
    """How often squid logged ``needle``: it writes a line once the transaction is over, a moment
    after the client has its answer, so wait until the count stops changing."""
    deadline = time.monotonic() + settle
    count = access_log.read_text().count(needle)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = access_log.read_text().count(needle)
        if now == count and now:
            return now
        count = now
    return count


def _gone(marker: str) -> bool:
    """No process has ``marker`` in its command line."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    return False
            except OSError:
                continue
    return True


def _device(tmp_path: Path) -> Path:
    device = yaml.safe_load((HERE / "devices" / "qemu-x86_64.yaml").read_text())
    # the disk board reads virtio disks only (no IDE driver in its initramfs)
    device["actions"]["deploy"]["methods"]["image"]["parameters"]["guest"] = {
        "size": 16, "interface": "virtio", "driveid": "lavatest"}
    path = tmp_path / "disk-device.yaml"
    path.write_text(yaml.safe_dump(device))
    return path


CHECKS = [
    "lava-test-case root-on-disk --shell grep -q '^/dev/vda2 / ' /proc/mounts",
    "lava-test-case overlay-there --shell test -x /lava-1/bin/lava-test-runner",
]


def disk_job(rootfs: dict, definitions: list[dict] | None = None) -> dict:
    imgs = disk_images()
    append = f"console=ttyS0 panic=-1 root={imgs.root_device} rw"
    actions: list[dict] = [
        {"deploy": {"to": "tmpfs", "timeout": {"minutes": 3}, "images": {
            "kernel": {"url": f"file://{imgs.kernel}", "image_arg": f"-kernel {{kernel}} -append '{append}'"},
            # not "ramdisk"/"initrd": the disk, not this loader, is the board's root filesystem
            "loader": {"url": f"file://{imgs.initramfs}", "image_arg": "-initrd {loader}"},
            "rootfs": rootfs,
        }}},
        {"boot": {"method": "qemu", "media": "tmpfs", "prompts": [PROMPT_REGEX], "timeout": {"minutes": 3}}},
    ]
    if definitions is not None:
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": definitions}})
    return {
        "job_name": "disk image", "device_type": "qemu", "visibility": "public",
        "timeouts": {"job": {"minutes": 8}, "action": {"minutes": 3}, "connection": {"minutes": 2}},
        "context": {"arch": "amd64"}, "actions": actions,
    }


@pytest.mark.qemu
@needs_e2fsprogs
def test_qcow2_through_squid_carries_the_overlay_in_its_partition(tmp_path, http_files, squid):
    require_qemu("x86_64")
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img is not installed (apt-get install qemu-utils)")
    imgs = disk_images()
    www, base = http_files
    proxy, access_log = squid
    packed = lzma.compress(imgs.disk_qcow2.read_bytes(), preset=1)
    (www / "disk.qcow2.xz").write_bytes(packed)
    rootfs = {"url": f"{base}/disk.qcow2.xz", "compression": "xz", "sha256sum": hashlib.sha256(packed).hexdigest(),
              "format": "qcow2", "partition": imgs.root_partition_index, "overlays": {"lava": True},
              "image_arg": "-drive format=qcow2,file={rootfs},if=virtio"}
    job = disk_job(rootfs, [inline("disk", CHECKS)])
    proc, records, _ = run_lava(tmp_path, job, _device(tmp_path), dispatcher_extra={"http_proxy": proxy})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_disk", "root-on-disk")] == "pass"
    assert found[("0_disk", "overlay-there")] == "pass"
    assert job_result(records)["result"] == "pass"
    assert any("written into partition 1" in str(r.get("msg")) for r in records)
    assert _log_count(access_log, f"GET {base}/disk.qcow2.xz") == 1
    assert _gone(str(tmp_path / "dl"))
    # the source image on the server is untouched: the job wrote into its own copy
    assert lzma.decompress((www / "disk.qcow2.xz").read_bytes()) == imgs.disk_qcow2.read_bytes()


@pytest.mark.qemu
@needs_e2fsprogs
def test_raw_disk_left_alone_gets_an_overlay_disk(tmp_path):
    require_qemu("x86_64")
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img is not installed (apt-get install qemu-utils)")
    imgs = disk_images()
    packed = tmp_path / "disk.img.gz"
    packed.write_bytes(gzip.compress(imgs.disk_raw.read_bytes(), compresslevel=1))
    rootfs = {"url": f"file://{packed}", "compression": "gz",
              "md5sum": hashlib.md5(packed.read_bytes()).hexdigest(),  # noqa: S324 - the job's checksum kind
              "image_arg": "-drive format=raw,file={rootfs},if=virtio"}
    checks = [*CHECKS, "lava-test-case overlay-mounted --shell grep -q ' /lava-1 ext2 ' /proc/mounts"]
    proc, records, _ = run_lava(tmp_path, disk_job(rootfs, [inline("disk", checks)]), _device(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    for case in ("root-on-disk", "overlay-there", "overlay-mounted"):
        assert found[("0_disk", case)] == "pass", case
    assert job_result(records)["result"] == "pass"
    assert any(r.get("lvl") == "input" and "mount -t ext2 UUID=" in str(r.get("msg")) for r in records)
    assert _gone(str(tmp_path / "dl"))


@pytest.mark.parametrize("case", ["partition", "checksum", "unreachable"])
def test_bad_disk_jobs_name_the_cause(tmp_path, case):
    if case == "partition" and not (shutil.which("debugfs") and shutil.which("qemu-img")):
        pytest.skip("e2fsprogs and qemu-img are needed")
    disk = tmp_path / "disk.img"
    disk.write_bytes(_mbr([(0x83, 2048, 100)]) + b"\0" * 4096)
    rootfs = {"url": f"file://{disk}", "format": "raw", "partition": 3, "overlays": {"lava": True},
              "image_arg": "-drive format=raw,file={rootfs},if=virtio"}
    expected = ("Job", r"images.rootfs.partition: the image 'disk.img' has no partition 3")
    if case == "checksum":
        rootfs["sha256sum"] = "0" * 64
        expected = ("Job", "rootfs: sha256sum mismatch: expected 0000")
    elif case == "unreachable":
        rootfs["url"] = f"http://127.0.0.1:{_free_port()}/disk.img"
        expected = ("Infrastructure", f"'{rootfs['url']}'")
    job = {
        "job_name": f"bad {case}", "device_type": "qemu", "visibility": "public",
        "timeouts": {"job": {"minutes": 2}, "action": {"minutes": 1}},
        "actions": [
            {"deploy": {"to": "tmpfs", "images": {"rootfs": rootfs}}},
            {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "]}},
            {"test": {"definitions": [inline("never", ["true"])]}},
        ],
    }
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, _device(tmp_path), timeout=120)
    assert proc.returncode != 0
    result = job_result(records)
    assert result["error_type"] == expected[0], result
    assert expected[1] in result["error_msg"], result["error_msg"]
    assert time.monotonic() - started < 60
    assert os.path.exists(disk)


@pytest.mark.qemu
def test_transfer_overlay_over_http(tmp_path):
    """The image stays untouched; the board fetches the overlay from lava-run over QEMU's user network."""
    require_qemu("x86_64")
    imgs = disk_images()
    device = yaml.safe_load(_device(tmp_path).read_text())
    options = device["actions"]["boot"]["methods"]["qemu"]["parameters"]["options"]
    options[options.index("-nic none")] = "-nic user,model=virtio-net-pci"
    (tmp_path / "net-device.yaml").write_text(yaml.safe_dump(device))
    rootfs = {"url": f"file://{imgs.disk_raw}", "image_arg": "-drive format=raw,file={rootfs},if=virtio,snapshot=on"}
    job = disk_job(rootfs, [inline("disk", CHECKS)])
    job["actions"][1]["boot"]["transfer_overlay"] = {
        # the board's busybox has no DHCP script: the address QEMU's user network gives, set by hand
        "download_command": "ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && cd /tmp && wget -q",
        "unpack_command": "tar -C / -xzf",
    }
    proc, records, _ = run_lava(tmp_path, job, tmp_path / "net-device.yaml",
                                dispatcher_extra={"dispatcher_ip": "10.0.2.2"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_disk", "overlay-there")] == "pass"
    assert any("serving the overlay at http://10.0.2.2:" in str(r.get("msg")) for r in records)
    assert not any("apply-overlay" in str(r.get("msg")) for r in records if r.get("lvl") == "info")
    assert _gone(str(tmp_path / "dl"))


def test_proxy_from_the_environment_and_no_proxy(tmp_path, http_files, squid, monkeypatch):
    """lava-run's environment (the worker's env.yaml) names the proxy when dispatcher.yaml does not;
    no_proxy in dispatcher.yaml sends a download straight to the server."""
    www, base = http_files
    proxy, access_log = squid
    (www / "fw.bin").write_bytes(b"fw" * 1000)
    monkeypatch.setenv("http_proxy", proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    ctx = _ctx(tmp_path)
    DownloadAction("fw", {"url": f"{base}/fw.bin"}).run(ctx)
    assert ctx.downloaded["fw"].read_bytes() == b"fw" * 1000
    assert _log_count(access_log, f"GET {base}/fw.bin") == 1
    ctx.dispatcher.raw.update({"http_proxy": proxy, "no_proxy": "127.0.0.1"})
    DownloadAction("direct", {"url": f"{base}/fw.bin"}).run(ctx)
    time.sleep(1)  # long enough for squid to log a transaction, had there been one
    assert access_log.read_text().count(f"GET {base}/fw.bin") == 1


@needs_e2fsprogs
@pytest.mark.parametrize("kind", ["ext4", "sparse"])
def test_lava_and_tarball_overlays_into_a_filesystem_image(tmp_path, kind):
    """tuxrun's rootfs.ext4 (the whole image is the filesystem), plain or as an Android sparse image."""
    if kind == "sparse" and not (shutil.which("img2simg") and shutil.which("simg2img")):
        pytest.skip("android-sdk-libsparse-utils (img2simg, simg2img) not installed")
    (tmp_path / "base" / "lib").mkdir(parents=True)
    image = tmp_path / "rootfs.ext4"
    disk_image.make_filesystem(tmp_path / "base", image, 16, "ext4")
    if kind == "sparse":
        disk_image.convert(image, tmp_path / "rootfs.simg", "raw", "sparse")
        image = tmp_path / "rootfs.simg"
    overlay = tmp_path / "overlay"
    (overlay / "lava-3" / "bin").mkdir(parents=True)
    (overlay / "lava-3" / "bin" / "lava-test-runner").write_text("#!/bin/sh\n")
    with tarfile.open(tmp_path / "modules.tar", "w") as archive:
        (tmp_path / "mod.ko").write_bytes(b"ko")
        archive.add(tmp_path / "mod.ko", arcname="modules/6.1/mod.ko")
    ctx = _ctx(tmp_path)
    ctx.downloaded.update({"rootfs": image, "rootfs.modules": tmp_path / "modules.tar"})
    ctx.overlay = OverlayInfo(root=overlay, results_dir="/lava-3")
    modules = TreeOverlay("modules", "rootfs.modules", "/lib", "tar")
    ApplyOverlayAction([ImageOverlays("rootfs", "ext4" if kind == "ext4" else "raw", (LAVA_OVERLAY, modules))]).run(ctx)
    assert disk_image.image_kind(image) == ("raw" if kind == "ext4" else "sparse")
    plain = image
    if kind == "sparse":
        plain = tmp_path / "check.img"
        disk_image.convert(image, plain, "sparse", "raw")
    for path, content in (("/lava-3/bin/lava-test-runner", "#!/bin/sh\n"), ("/lib/modules/6.1/mod.ko", "ko")):
        cat = subprocess.run(["debugfs", "-R", f"cat {path}", str(plain)], capture_output=True, text=True)
        assert cat.stdout == content, (path, cat.stderr)
    assert subprocess.run(["e2fsck", "-fn", str(plain)], capture_output=True).returncode == 0
