"""Notification by HTTP callback, only to addresses ``address_policy`` allows.

The connection goes to the address that was checked (the name is not
resolved twice); redirects are followed by hand, each target checked again.
"""

import http.client
import json
import socket
import ssl
from urllib.parse import urlencode, urljoin

from django.conf import settings

from lava_scheduler.notifications.address_policy import CheckedTarget, check_url
from lava_scheduler.notifications.payload import fill_url, job_data

MAX_REDIRECTS = 5


class CallbackError(Exception):
    pass


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a given address, whatever the host name says."""

    def __init__(self, target: CheckedTarget, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(PinnedHTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


def _request(url: str, method: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
    """Send, following redirects; returns (status, final URL)."""
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(url)
        connection_class = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
        connection = connection_class(target, settings.CALLBACK_TIMEOUT)
        try:
            connection.request(method, target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(65536)
            location = response.getheader("Location")
        finally:
            connection.close()
        if response.status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            continue
        return response.status, url
    raise CallbackError(f"more than {MAX_REDIRECTS} redirects")


def send_callback(notification, job) -> str:
    spec = notification.spec
    url = fill_url(spec["url"], job)
    method = spec.get("method", "GET").upper()
    headers = {"User-Agent": "LAVA notifications"}
    if spec.get("token"):
        headers[spec.get("header") or "Authorization"] = spec["token"]
    body = None
    if method == "POST":
        data = job_data(job, spec.get("dataset", "minimal"))
        if spec.get("content-type") == "json":
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        else:
            flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
            body = urlencode(flat).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    status, final_url = _request(url, method, body, headers)
    if not 200 <= status < 300:
        raise CallbackError(f"{method} {final_url}: HTTP {status}")
    return f"{method} {final_url}: HTTP {status}"
