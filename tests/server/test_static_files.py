"""The static-file front of the lab's gunicorn (``lava_server.static_files``), as a WSGI application."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lava_server.static_files import StaticFiles


def django_stand_in(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"from django"]


@pytest.fixture
def static(tmp_path: Path) -> StaticFiles:
    root = tmp_path / "static"
    (root / "web").mkdir(parents=True)
    (root / "web" / "lab.css").write_text("body { color: black }\n")
    (tmp_path / "secret").write_text("not public")
    os.symlink(tmp_path / "secret", root / "web" / "escape.txt")
    return StaticFiles(django_stand_in, root, "/static/")


def get(app: StaticFiles, path: str, method: str = "GET", **headers: str) -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = status, dict(response_headers)

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": method, **headers}, start_response))
    return seen["status"], seen["headers"], body


def test_a_collected_file_is_served_with_its_type_length_and_validators(static):
    status, headers, body = get(static, "/static/web/lab.css")
    assert status == "200 OK"
    assert body == b"body { color: black }\n"
    assert headers["Content-Type"] == "text/css; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert headers["ETag"] and headers["Last-Modified"] and "max-age" in headers["Cache-Control"]


def test_a_browser_that_has_it_gets_304(static):
    _, headers, _ = get(static, "/static/web/lab.css")
    assert get(static, "/static/web/lab.css", HTTP_IF_NONE_MATCH=headers["ETag"])[0] == "304 Not Modified"
    assert get(static, "/static/web/lab.css", HTTP_IF_MODIFIED_SINCE=headers["Last-Modified"])[0] == "304 Not Modified"
    assert get(static, "/static/web/lab.css", HTTP_IF_MODIFIED_SINCE="garbage")[0] == "200 OK"


@pytest.mark.parametrize("path", ["/static/../secret", "/static/web/../../secret", "/static/web/escape.txt",
                                  "/static/web/missing.css", "/static/web/"])
def test_nothing_outside_the_collected_files_is_served(static, path):
    status, _, body = get(static, path)
    assert status == "404 Not Found"
    assert b"not public" not in body


def test_static_files_are_read_only_and_other_urls_reach_django(static):
    assert get(static, "/static/web/lab.css", "POST")[0] == "405 Method Not Allowed"
    assert get(static, "/static/web/lab.css", "HEAD")[2] == b""
    assert get(static, "/scheduler/jobs")[2] == b"from django"
