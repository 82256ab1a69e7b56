"""Android image formats: the phone's sparse reader and boot image parser, the dispatcher's ramdisk swap and ext4 overlay."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys

import pytest

from lava_common.exceptions import JobError
from lava_dispatcher.actions.deploy.image_overlay import debugfs_script
from lava_dispatcher.android_bootimg import read_ramdisk, replace_ramdisk

from .helpers import REPO

sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
from android_images import (  # noqa: E402
    CHUNK_DONT_CARE,
    CHUNK_FILL,
    CHUNK_RAW,
    SPARSE_MAGIC,
    ImageError,
    parse_boot_image,
    write_sparse,
)

BLOCK = 4096


def sparse(chunks: list[tuple[int, int, bytes]], blocks: int | None = None) -> bytes:
    body = b""
    for kind, count, data in chunks:
        body += struct.pack("<HHII", kind, 0, count, 12 + len(data)) + data
    total = blocks if blocks is not None else sum(c[1] for c in chunks)
    return struct.pack("<IHHHHIIII", SPARSE_MAGIC, 1, 0, 28, 12, BLOCK, total, len(chunks), 0) + body


def test_sparse_raw_fill_and_dont_care_expand_in_place():
    out = io.BytesIO(b"\x11" * BLOCK * 4)
    image = sparse([(CHUNK_RAW, 1, b"A" * BLOCK), (CHUNK_DONT_CARE, 1, b""), (CHUNK_FILL, 2, b"\x01\x02\x03\x04")])
    assert write_sparse(image, out) == 4 * BLOCK
    data = out.getvalue()
    assert data[:BLOCK] == b"A" * BLOCK
    assert data[BLOCK: 2 * BLOCK] == b"\x11" * BLOCK  # don't care: what the partition held stays
    assert data[2 * BLOCK:] == b"\x01\x02\x03\x04" * (BLOCK // 2)


@pytest.mark.parametrize(("image", "message"), [
    (sparse([(CHUNK_RAW, 2, b"A" * BLOCK)]), "raw chunk 0 holds 4096 bytes for 2 blocks"),
    (sparse([(CHUNK_RAW, 1, b"A" * BLOCK)], blocks=3), "chunks cover 1 blocks, the header says 3"),
    (sparse([(0xBEEF, 1, b"")]), "unknown type 0xbeef"),
    (sparse([(CHUNK_RAW, 1, b"A" * BLOCK)])[:-10], "the file ends first"),
])
def test_a_broken_sparse_image_says_where(image, message):
    with pytest.raises(ImageError, match=message):
        write_sparse(image, io.BytesIO())


@pytest.mark.skipif(not shutil.which("mkbootimg"), reason="mkbootimg is not installed")
@pytest.mark.parametrize("version", ["0", "2"])
def test_a_bigger_ramdisk_goes_into_a_mkbootimg_image(tmp_path, version):
    kernel, ramdisk, dtb = tmp_path / "kernel", tmp_path / "ramdisk", tmp_path / "dtb"
    kernel.write_bytes(b"K" * 5000)
    ramdisk.write_bytes(b"R" * 3000)
    dtb.write_bytes(b"D" * 100)
    image = tmp_path / "boot.img"
    extra = ["--dtb", str(dtb)] if version == "2" else []
    subprocess.run(["mkbootimg", "--kernel", str(kernel), "--ramdisk", str(ramdisk), "--cmdline", "console=ttyS0",
                    "--header_version", version, *extra, "-o", str(image)], check=True)
    assert read_ramdisk(image, "boot") == b"R" * 3000
    replace_ramdisk(image, b"N" * 7000, "boot")
    parsed = parse_boot_image(image.read_bytes())
    assert (parsed.kernel, parsed.ramdisk, parsed.cmdline) == (b"K" * 5000, b"N" * 7000, "console=ttyS0")
    if version == "2":
        assert parsed.dtb == b"D" * 100


def test_a_file_that_is_no_boot_image_is_a_job_error(tmp_path):
    path = tmp_path / "boot.img"
    path.write_bytes(b"\0" * 4096)
    with pytest.raises(JobError, match="boot: not an Android boot image"):
        read_ramdisk(path, "boot")


@pytest.mark.skipif(not shutil.which("debugfs"), reason="e2fsprogs is not installed")
def test_the_overlay_is_written_into_an_ext4_image_with_its_modes(tmp_path):
    tree = tmp_path / "overlay"
    (tree / "lava-7" / "bin").mkdir(parents=True)
    (tree / "lava-7" / "bin" / "lava-test-runner").write_text("#!/bin/sh\necho run\n")
    (tree / "lava-7" / "bin" / "lava-test-runner").chmod(0o755)
    (tree / "lava-7" / "environment").write_text("export A=1\n")
    image = tmp_path / "system.img"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", str(image), "4M"], check=True, capture_output=True)
    script = tmp_path / "script"
    script.write_text(debugfs_script(tree))
    subprocess.run(["debugfs", "-w", "-f", str(script), str(image)], check=True, capture_output=True)
    cat = subprocess.run(["debugfs", "-R", "cat /lava-7/bin/lava-test-runner", str(image)], capture_output=True, text=True)
    assert cat.stdout == "#!/bin/sh\necho run\n"
    stat = subprocess.run(["debugfs", "-R", "stat /lava-7/bin/lava-test-runner", str(image)], capture_output=True, text=True)
    assert "Mode:  0755" in stat.stdout or "Mode:  0100755" in stat.stdout
    check = subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_an_overlay_name_debugfs_cannot_quote_is_refused(tmp_path):
    tree = tmp_path / "overlay"
    tree.mkdir()
    (tree / 'bad"name').write_text("x")
    with pytest.raises(JobError, match="cannot be written into an ext4 image"):
        debugfs_script(tree)

