"""Artefact downloads: file:// and http://, decompression, checksums, scratch space."""

import bz2
import gzip
import hashlib
import http.server
import lzma
import shutil
import subprocess
import threading

import pytest

from lava_common.exceptions import JobError
from lava_dispatcher.actions.deploy.checksums import NAMES
from lava_dispatcher.actions.deploy.download import DownloadAction, check_url_block
from lava_dispatcher.context import JobContext
from lava_dispatcher.device import DispatcherConfig, parse_device
from lava_dispatcher.logger import JobLogger

PAYLOAD = b"kernel bytes " * 5000


class Sink(list):
    def write(self, line):
        self.append(line)

    def flush(self):
        pass


def _ctx(tmp_path):
    device = parse_device({"actions": {}, "timeouts": {}})
    return JobContext(job_id="9", job={}, device=device, dispatcher=DispatcherConfig(download_dir=tmp_path / "dl"),
                      logger=JobLogger(stream=Sink()))


def _compressed(tmp_path, compression):
    path = tmp_path / f"image.{compression}"
    if compression == "gz":
        path.write_bytes(gzip.compress(PAYLOAD))
    elif compression == "xz":
        path.write_bytes(lzma.compress(PAYLOAD))
    elif compression == "bz2":
        path.write_bytes(bz2.compress(PAYLOAD))
    else:
        if not shutil.which("zstd"):
            pytest.skip("zstd not installed")
        raw = tmp_path / "image"
        raw.write_bytes(PAYLOAD)
        subprocess.run(["zstd", "-q", "-f", str(raw), "-o", str(path)], check=True)
    return path


@pytest.mark.parametrize("compression,suffix", [("gz", "gz"), ("xz", "xz"), ("bz2", "bz2"), ("zstd", "zst")])
def test_file_download_with_decompression(tmp_path, compression, suffix):
    source = _compressed(tmp_path, compression).rename(tmp_path / f"image.{suffix}")
    ctx = _ctx(tmp_path)
    action = DownloadAction("rootfs", {"url": f"file://{source}", "compression": compression,
                                       "sha256sum": hashlib.sha256(source.read_bytes()).hexdigest()})
    action.run(ctx)
    assert ctx.downloaded["rootfs"].read_bytes() == PAYLOAD
    assert ctx.downloaded["rootfs"].parent.parent == tmp_path / "dl" / "9"
    assert action.results["label"] == "rootfs" and len(action.results["sha256sum"]) == 64


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress], ids=["gz", "bz2", "xz"])
def test_a_file_of_several_members_is_decompressed_whole(tmp_path, compress):
    # what pbzip2 writes, and what cat makes of two compressed files
    source = tmp_path / "image.z"
    source.write_bytes(compress(PAYLOAD) + compress(b"second member"))
    ctx = _ctx(tmp_path)
    kind = {gzip.compress: "gz", bz2.compress: "bz2", lzma.compress: "xz"}[compress]
    DownloadAction("rootfs", {"url": f"file://{source}", "compression": kind}).run(ctx)
    assert ctx.downloaded["rootfs"].read_bytes() == PAYLOAD + b"second member"


def test_a_truncated_or_corrupted_download_says_which(tmp_path):
    whole = gzip.compress(PAYLOAD)
    source = tmp_path / "image.gz"
    source.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(JobError, match=r"cannot decompress 'image.gz' \(gz\): the data ends before its end marker"):
        DownloadAction("rootfs", {"url": f"file://{source}", "compression": "gz"}).run(_ctx(tmp_path))
    source.write_bytes(whole[:20] + b"garbage" * 100)
    with pytest.raises(JobError, match=r"cannot decompress 'image.gz' \(gz\): Error -3"):
        DownloadAction("rootfs", {"url": f"file://{source}", "compression": "gz"}).run(_ctx(tmp_path))
    # with a checksum, a corrupted download is a checksum mismatch, whatever the codec made of it
    with pytest.raises(JobError, match="sha256sum mismatch"):
        DownloadAction("rootfs", {"url": f"file://{source}", "compression": "gz",
                                  "sha256sum": hashlib.sha256(whole).hexdigest()}).run(_ctx(tmp_path))


def test_checksum_mismatch_is_a_job_error(tmp_path):
    source = tmp_path / "k"
    source.write_bytes(PAYLOAD)
    with pytest.raises(JobError, match="md5sum mismatch"):
        DownloadAction("kernel", {"url": f"file://{source}", "md5sum": "0" * 32}).run(_ctx(tmp_path))


def test_missing_file_is_a_job_error(tmp_path):
    with pytest.raises(JobError, match="cannot read"):
        DownloadAction("kernel", {"url": f"file://{tmp_path}/nope"}).run(_ctx(tmp_path))
    assert not [t for t in threading.enumerate() if t.name in NAMES], "a digest thread left waiting"


def test_the_three_sums_are_those_of_the_whole_file(tmp_path):
    source = tmp_path / "big"
    source.write_bytes(bytes(range(256)) * 20_000)  # several chunks: 5 MB
    action = DownloadAction("kernel", {"url": f"file://{source}"})
    action.run(_ctx(tmp_path))
    data = source.read_bytes()
    assert {name: action.results[name] for name in NAMES} == {
        "md5sum": hashlib.md5(data).hexdigest(), "sha256sum": hashlib.sha256(data).hexdigest(),
        "sha512sum": hashlib.sha512(data).hexdigest()}
    assert list(action.results) == ["label", "size", *NAMES]


def test_http_download(tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "Image.gz").write_bytes(gzip.compress(PAYLOAD))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path / "www"), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        ctx = _ctx(tmp_path)
        DownloadAction("kernel", {"url": f"{url}/Image.gz", "compression": "gz"}).run(ctx)
        assert ctx.downloaded["kernel"].read_bytes() == PAYLOAD
        with pytest.raises(JobError, match="HTTP 404"):
            DownloadAction("dtb", {"url": f"{url}/missing.dtb"}).run(ctx)
    finally:
        server.shutdown()


def test_url_block_validation():
    assert check_url_block({"url": "scp://x/y"}, "kernel") == ["kernel.url: unsupported scheme 'scp' (use file, http, https, downloads)"]
    assert check_url_block({"url": "file:///x", "compression": "rar"}, "k")[0].startswith("k.compression")
    assert check_url_block({}, "k") == ["k.url is required"]
    # the reference's documentation samples: __FQDN__ is filled in before they are published
    assert check_url_block({"url": "__FQDN__/vmlinux"}, "kernel") == [
        "kernel.url: '__FQDN__/vmlinux' has no scheme (use file, http, https, downloads)"]
