"""Serve the collected static files in front of the web application, for a lab without apache.

The packaged lab lets apache serve ``STATIC_ROOT``; the lab in a box has only
gunicorn. Django's own static view reads each file through Python and is
documented as unfit for production, so this WSGI wrapper indexes the folder
``collectstatic`` filled once at start (a request is a dictionary lookup: no
path joins, so no way out of the folder) and hands the open file to the
server's ``wsgi.file_wrapper`` (gunicorn sends it with ``sendfile``).
Conditional requests get 304; anything not in the index is a 404 without
reaching Django.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
# file names are not content-hashed: a browser checks again after an hour
CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True)
class StaticFile:
    path: Path
    size: int
    mtime: int
    content_type: str

    @property
    def etag(self) -> str:
        return f'"{self.mtime:x}-{self.size:x}"'

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(self.size)),
            ("Last-Modified", formatdate(self.mtime, usegmt=True)),
            ("ETag", self.etag),
            ("Cache-Control", CACHE_CONTROL),
        ]


def index_folder(root: Path, url_prefix: str) -> dict[str, StaticFile]:
    """URL path -> file, for every regular file under ``root`` (symlinks leaving it are skipped)."""
    files: dict[str, StaticFile] = {}
    root = root.resolve()
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                continue
            stat = path.stat()
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
                content_type += "; charset=utf-8"
            url = url_prefix + path.relative_to(root).as_posix()
            files[url] = StaticFile(path, stat.st_size, int(stat.st_mtime), content_type)
    return files


class StaticFiles:
    def __init__(self, application: WSGIApp, root: Path, url_prefix: str) -> None:
        self.application = application
        self.prefix = url_prefix
        self.files = index_folder(root, url_prefix) if root.is_dir() else {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        url = environ.get("PATH_INFO", "")
        if not url.startswith(self.prefix):
            return self.application(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", b"static files are read-only\n",
                          [("Allow", "GET, HEAD")])
        found = self.files.get(url)
        if found is None:
            return _plain(start_response, "404 Not Found", b"no such static file\n")
        if _not_modified(environ, found):
            start_response("304 Not Modified", [("ETag", found.etag), ("Cache-Control", CACHE_CONTROL)])
            return []
        try:
            stream = open(found.path, "rb")  # noqa: SIM115 - the server closes it after sending
        except OSError:  # removed since the index was built
            return _plain(start_response, "404 Not Found", b"no such static file\n")
        start_response("200 OK", found.headers())
        if method == "HEAD":
            stream.close()
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(stream, 65536) if wrapper else _chunks(stream)


def _not_modified(environ: dict, found: StaticFile) -> bool:
    if "HTTP_IF_NONE_MATCH" in environ:
        return found.etag in [tag.strip() for tag in environ["HTTP_IF_NONE_MATCH"].split(",")]
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            return int(parsedate_to_datetime(since).timestamp()) >= found.mtime
        except (TypeError, ValueError):
            return False
    return False


def _plain(start_response: Callable, status: str, body: bytes,
           extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                            *(extra or [])])
    return [body]


def _chunks(stream) -> Iterable[bytes]:
    with stream:
        while chunk := stream.read(65536):
            yield chunk
