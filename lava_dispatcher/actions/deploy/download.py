"""Fetch one artefact (``file://``, ``http(s)://`` or ``downloads://``) into the job's scratch space.

The checksum given in the job is checked on the bytes as downloaded; the file
is decompressed (gz, xz and bz2 as its chunks arrive, zip and zstd once it is
whole: ``decompress``) and, with ``archive: tar``, unpacked into a folder. HTTP goes through
the proxy of the dispatcher configuration (``http_proxy``/``https_proxy``/
``no_proxy``) when it names one, else through the one of lava-run's environment.
``downloads://NAME`` is a file an earlier ``to: downloads`` deploy left in the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lava_common.constants import HTTP_DOWNLOAD_CHUNK_SIZE, HTTP_DOWNLOAD_TIMEOUT
from lava_common.exceptions import InfrastructureError, JobError
from lava_common.safe_paths import inside
from lava_dispatcher.action import Action
from lava_dispatcher.retry import RetryAction

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lava_dispatcher.actions.deploy.decompress import StreamDecoder
    from lava_dispatcher.context import JobContext

COMPRESSIONS = {"gz": ".gz", "xz": ".xz", "bz2": ".bz2", "zstd": ".zst", "zip": ".zip"}
SCHEMES = ("file", "http", "https", "downloads")
PROXY_KEYS = ("http_proxy", "https_proxy", "no_proxy")
DOWNLOADS_DIR = "downloads"  # under the job's scratch dir: what `to: downloads` deploys leave


def proxies(dispatcher_config: dict[str, Any]) -> dict[str, str]:
    """The proxies of the dispatcher configuration, as requests names them ({} = lava-run's environment)."""
    found = {}
    for key in PROXY_KEYS:
        value = dispatcher_config.get(key) or dispatcher_config.get(key.upper())
        if isinstance(value, str) and value:
            found[key.removesuffix("_proxy")] = value
    return found


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk
    except OSError as exc:
        raise JobError(f"cannot read '{path}': {exc.strerror}") from exc


def _http_chunks(url: str, headers: dict[str, str] | None, proxy: dict[str, str]) -> Iterator[bytes]:
    import requests  # only jobs that download over HTTP pay for this import

    kwargs: dict[str, Any] = {"stream": True, "timeout": HTTP_DOWNLOAD_TIMEOUT, "headers": headers or {}}
    if proxy:
        kwargs["proxies"] = {scheme: value for scheme, value in proxy.items() if scheme != "no"}
        if "no" in proxy and requests.utils.should_bypass_proxies(url, no_proxy=proxy["no"]):
            kwargs["proxies"] = {"http": "", "https": ""}
    try:
        with requests.get(url, **kwargs) as reply:
            if reply.status_code != 200:
                raise JobError(f"'{url}': HTTP {reply.status_code}")
            yield from reply.iter_content(HTTP_DOWNLOAD_CHUNK_SIZE)
    except requests.RequestException as exc:
        raise InfrastructureError(f"'{url}': {exc}") from exc


def _receive(chunks: Iterator[bytes], out_path: Path, decoder: StreamDecoder | None) -> tuple[int, dict[str, str], str]:
    """Write the chunks to ``out_path`` (decoded, with a decoder) while threads digest them.

    Returns their size, their checksums and why they could not be decoded ("" if they could).
    """
    from lava_dispatcher.actions.deploy import checksums, decompress

    failure = ""
    size = 0
    with out_path.open("wb") as out, checksums.Checksums() as digests:
        for chunk in chunks:
            digests.feed(chunk)
            size += len(chunk)
            if decoder is None:
                out.write(chunk)
            elif not failure:
                try:
                    out.write(decoder.decompress(chunk))
                except decompress.decode_errors() as exc:
                    failure = str(exc)  # the checksums still say whether the download itself was bad
    if decoder is not None and not failure and decoder.truncated:
        failure = "the data ends before its end marker"
    return size, digests.hexdigests, failure


def downloaded_file(ctx: JobContext, name: str, where: str) -> Path:
    """``downloads://NAME``: a path under the downloads folder, else the one file of that name in it."""
    folder = ctx.scratch() / DOWNLOADS_DIR
    direct = inside(folder, name, where)
    if direct.is_file():
        return direct
    found = sorted(path for path in folder.rglob(Path(name).name) if path.is_file()) if folder.is_dir() else []
    if len(found) != 1:
        why = "no file" if not found else f"{len(found)} files"
        raise JobError(f"{where}: downloads://{name}: {why} of that name left by an earlier 'to: downloads' deploy")
    return found[0]


def _untar(archive_path: Path, dest: Path) -> None:
    import tarfile  # deferred: only `archive: tar` artefacts need it

    try:
        with tarfile.open(archive_path) as archive:
            archive.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise JobError(f"cannot unpack '{archive_path.name}' (archive: tar): {exc}") from exc


def check_url_block(block: Any, where: str) -> list[str]:
    """Validation errors of one artefact block (``{url, compression, md5sum...}``)."""
    if not isinstance(block, dict) or not isinstance(block.get("url"), str):
        return [f"{where}.url is required"]
    errors = []
    scheme = urlparse(block["url"]).scheme
    if not scheme:
        # as the reference's lava-run: a documentation sample's __FQDN__/file is not a URL yet
        errors.append(f"{where}.url: '{block['url']}' has no scheme (use {', '.join(SCHEMES)})")
    elif scheme not in SCHEMES:
        errors.append(f"{where}.url: unsupported scheme '{scheme}' (use {', '.join(SCHEMES)})")
    compression = block.get("compression")
    if compression not in (None, *COMPRESSIONS):
        errors.append(f"{where}.compression: unknown compression '{compression}'")
    if block.get("archive") not in (None, "tar"):
        errors.append(f"{where}.archive: only 'tar' is known, not '{block.get('archive')}'")
    return errors


class DownloadAction(Action):
    name = "file-download"
    description = "download an artefact"
    summary = "download"
    section = "deploy"

    def __init__(self, label: str, block: dict[str, Any], dest_dir: str = "scratch") -> None:
        super().__init__()
        self.label = label
        self.block = block
        self.dest_dir = dest_dir
        self.url = block.get("url", "") if isinstance(block, dict) else ""

    def validate(self) -> None:
        self.errors.extend(check_url_block(self.block, self.label))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "url": self.url}

    def destination(self, ctx: JobContext) -> Path:
        if self.dest_dir == DOWNLOADS_DIR:
            return inside(ctx.scratch() / DOWNLOADS_DIR, self.label, self.label)
        base = ctx.tftp_dir if self.dest_dir == "tftp" and ctx.tftp_dir is not None else ctx.scratch()
        return inside(base, self.label, self.label)

    def run(self, ctx: JobContext) -> None:
        # imported by a run, not by `lava-run --validate`
        from lava_dispatcher.actions.deploy import checksums, decompress

        parsed = urlparse(self.url)
        dest = self.destination(ctx)
        dest.mkdir(parents=True, exist_ok=True)
        # downloads://NAME puts the name where a host would be
        source_path = parsed.netloc + parsed.path if parsed.scheme == "downloads" else parsed.path
        filename = Path(unquote(source_path)).name
        raw = inside(dest, filename if filename not in ("", "..") else self.label, f"{self.label}.url")
        if parsed.scheme == "file":
            chunks = _file_chunks(ctx.local_files.check(unquote(parsed.path), f"{self.label}.url"))
        elif parsed.scheme == "downloads":
            chunks = _file_chunks(downloaded_file(ctx, unquote(source_path).lstrip("/"), f"{self.label}.url"))
        else:
            proxy = proxies(ctx.dispatcher.raw)
            if proxy:
                ctx.logger.info(f"{self.label}: through the proxy of the dispatcher configuration")
            chunks = _http_chunks(self.url, self.block.get("headers"), proxy)
        compression = self.block.get("compression")
        final = raw
        if compression:
            suffix = COMPRESSIONS[compression]
            final = dest / (filename[: -len(suffix)] if filename.endswith(suffix) else filename + ".out")
        # gz, xz and bz2 are decompressed as the chunks arrive: the compressed file is never
        # written nor read again
        decoder = decompress.StreamDecoder(compression) if compression in decompress.STREAMED else None
        size, sums, failure = _receive(chunks, final if decoder else raw, decoder)
        for name in checksums.NAMES:
            expected = self.block.get(name)
            if expected and expected != sums[name]:
                raise JobError(f"{self.label}: {name} mismatch: expected {expected}, got {sums[name]}")
        if failure:
            raise JobError(f"cannot decompress '{raw.name}' ({compression}): {failure}")
        if compression and decoder is None:
            decompress.decompress_file(raw, final, compression)
            raw.unlink()
        if self.block.get("archive") == "tar":
            unpacked = dest / f"{self.label}.unpacked"
            _untar(final, unpacked)
            final.unlink()
            final = unpacked
        ctx.downloaded[self.label] = final
        ctx.logger.info(f"{self.label}: {size} bytes from {self.url} -> {final}")
        self.results = {
            "label": self.label,
            "size": size,
            **sums,
        }


class HttpDownloadAction(DownloadAction):
    name = "http-download"


class DownloadRetry(RetryAction):
    name = "download-retry"
    description = "download with retry"
    summary = "download-retry"
    section = "deploy"

    def __init__(self, label: str, block: dict[str, Any], dest_dir: str = "scratch", retries: int = 1) -> None:
        super().__init__(max_retries=retries)
        self.label, self.block, self.dest_dir = label, block, dest_dir

    def populate(self, parameters: dict[str, Any]) -> None:
        self.max_retries = self._explicit_retries or 1
        url = self.block.get("url", "") if isinstance(self.block, dict) else ""
        cls = HttpDownloadAction if url.startswith(("http://", "https://")) else DownloadAction
        self.new_pipeline().add_action(cls(self.label, self.block, self.dest_dir), parameters)
