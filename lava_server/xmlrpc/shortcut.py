"""/RPC2 goes straight to its view, past the middleware that serves web pages.

lavacli and scripts call /RPC2 in loops. Sessions, CSRF, the login and
messages of a page do nothing for it (each call authenticates with its own
``Authorization`` header and the endpoint is CSRF-exempt), yet walking them
cost a tenth of a ``jobs.validate``. This middleware stands after those
whose headers every answer carries (``SecurityMiddleware``,
``XFrameOptionsMiddleware``) and keeps what the skipped ones do for any
request: the ``Host`` header checked against ``ALLOWED_HOSTS`` and the
``Content-Length`` of the answer (``CommonMiddleware``).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from lava_server.xmlrpc.dispatcher import rpc_view
from lava_server.xmlrpc.urls import RPC_PATHS


class XmlRpcShortcut:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in RPC_PATHS:
            return self.get_response(request)
        request.get_host()  # DisallowedHost (HTTP 400), as CommonMiddleware raises it for a page
        response = rpc_view(request)
        # as CommonMiddleware does: without it gunicorn would send the answer chunked
        response.headers["Content-Length"] = str(len(response.content))
        return response
