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


def test_checksum_mismatch_is_a_job_error(tmp_path):
    source = tmp_path / "k"
    source.write_bytes(PAYLOAD)
    with pytest.raises(JobError, match="md5sum mismatch"):
        DownloadAction("kernel", {"url": f"file://{source}", "md5sum": "0" * 32}).run(_ctx(tmp_path))


def test_missing_file_is_a_job_error(tmp_path):
    with pytest.raises(JobError, match="cannot read"):
        DownloadAction("kernel", {"url": f"file://{tmp_path}/nope"}).run(_ctx(tmp_path))


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
