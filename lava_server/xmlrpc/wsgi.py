"""POST /RPC2 answered in WSGI, before Django builds a request and walks its handler.

lavacli and scripts call /RPC2 in loops. Django's handler (the request
object, the middleware chain, the response object) cost as much CPU as a
whole ``jobs.validate`` beside it, although the API needs none of it: each
call authenticates with its own ``Authorization`` header and the view is
CSRF-exempt. This wrapper answers a POST on /RPC2 with the same function
as the view (``answer_post``) and keeps what Django did around it:

* the ``Host`` header checked against ``ALLOWED_HOSTS``;
* the headers of the middleware that stand before ``XmlRpcShortcut``
  (``SecurityMiddleware``, ``XFrameOptionsMiddleware``: fixed headers,
  computed once by running those classes on an empty answer) and the
  ``Content-Length``;
* the ``request_started``/``request_finished`` signals, which recycle
  database connections;
* an unexpected error answered and logged as Django answers and logs it.

Anything else goes to Django as before: other paths and methods, a
disallowed host (Django answers 400 and logs it), a body without a length or
over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (400), settings that make the skipped
middleware do more than add headers (``SECURE_SSL_REDIRECT``,
``SECURE_PROXY_SSL_HEADER``, another middleware before the shortcut).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from lava_server.xmlrpc.dispatcher import Answer, answer_post
from lava_server.xmlrpc.urls import RPC_PATHS

SHORTCUT = "lava_server.xmlrpc.shortcut.XmlRpcShortcut"
# middleware whose only effect on an /RPC2 answer is a few fixed headers, given the settings checked below
HEADER_ONLY_MIDDLEWARE = frozenset({
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
})

_UNREAD = object()
WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def _middleware_before_shortcut() -> list[str] | None:
    """The middleware that run before XmlRpcShortcut, or None when the fast path cannot stand in for them."""
    if SHORTCUT not in settings.MIDDLEWARE or settings.SECURE_SSL_REDIRECT or settings.SECURE_PROXY_SSL_HEADER:
        return None
    before = list(settings.MIDDLEWARE[: settings.MIDDLEWARE.index(SHORTCUT)])
    return before if set(before) <= HEADER_ONLY_MIDDLEWARE else None


def _middleware_headers(names: list[str], scheme: str) -> list[tuple[str, str]]:
    """The headers these middleware add to an answer over ``scheme`` (HSTS depends on it)."""
    request = WSGIRequest({"REQUEST_METHOD": "POST", "PATH_INFO": "/RPC2", "wsgi.input": io.BytesIO(),
                           "wsgi.url_scheme": scheme, "SERVER_NAME": "localhost", "SERVER_PORT": "80"})
    response = HttpResponse()
    before = set(response.headers)
    for name in reversed(names):  # responses go through the middleware from the last to the first
        response = import_string(name)(_never_called).process_response(request, response)
    return [(key, value) for key, value in response.items() if key not in before]


def _never_called(request: HttpRequest) -> HttpResponse:
    raise AssertionError("only process_response is called")


def _host_allowed(environ: dict[str, Any]) -> bool:
    # get_host() reads only META and the settings: no need to build the whole request
    request = HttpRequest.__new__(HttpRequest)
    request.META = environ
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


def _body_length(environ: dict[str, Any]) -> int | None:
    """The announced length of the body when the fast path may read it, else None."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return length if 0 <= length and (limit is None or length <= limit) else None


class XmlRpcFastPath:
    """WSGI middleware: POST /RPC2 straight to ``answer_post``, anything else to ``application``."""

    def __init__(self, application: WSGIApp) -> None:
        self.application = application
        self._forget()
        # read again when a test overrides the settings
        signals.setting_changed.connect(self._forget, weak=False)

    def _forget(self, **_) -> None:
        self._middleware: list[str] | None | object = _UNREAD
        self._headers: dict[str, list[tuple[str, str]]] = {}

    def _extra_headers(self, scheme: str) -> list[tuple[str, str]]:
        headers = self._headers.get(scheme)
        if headers is None:
            headers = self._headers[scheme] = _middleware_headers(self._middleware, scheme)
        return headers

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") not in RPC_PATHS:
            return self.application(environ, start_response)
        if self._middleware is _UNREAD:
            self._middleware = _middleware_before_shortcut()
        length = _body_length(environ)
        if self._middleware is None or length is None or not _host_allowed(environ):
            return self.application(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            try:
                answer = answer_post(environ.get("HTTP_AUTHORIZATION"), environ["wsgi.input"].read(length))
            except Exception as exc:  # what Django's handler does with an error no view caught
                answer = _from_response(response_for_exception(WSGIRequest(environ), exc))
            status = HTTPStatus(answer.status)
            start_response(f"{status.value} {status.phrase}", [
                ("Content-Type", answer.content_type), *answer.headers,
                *self._extra_headers(environ.get("wsgi.url_scheme", "http")),
                ("Content-Length", str(len(answer.body))),
            ])
        except BaseException:
            signals.request_finished.send(sender=self.__class__)
            raise
        return _FinishedOnClose(answer.body, self.__class__)


class _FinishedOnClose:
    """The answer's body; the server closes it once sent, which sends ``request_finished`` as
    Django's responses do: the connection's recycling waits no longer on the client's path."""

    def __init__(self, body: bytes, sender: type) -> None:
        self.body, self.sender = body, sender

    def __iter__(self) -> Iterator[bytes]:
        return iter((self.body,))

    def close(self) -> None:
        signals.request_finished.send(sender=self.sender)


def _from_response(response: HttpResponse) -> Answer:
    headers = tuple((key, value) for key, value in response.items() if key != "Content-Type")
    return Answer(response.status_code, response.content, response["Content-Type"], headers)
