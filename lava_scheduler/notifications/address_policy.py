"""Which addresses a job's callback may reach.

A callback URL comes from whoever submits a job; unchecked, it would make the
server probe its own network. A URL is allowed when its host name passes
``CALLBACK_ALLOWED_HOSTS`` (empty: any name; else exact names or
``*.domain``) and every address it resolves to is public, or lies in one of
the networks of ``CALLBACK_ALLOWED_NETWORKS``. Loopback, private, link-local,
multicast, reserved and unspecified addresses are refused by default. The
sender connects to the address checked here, never resolving the name again
(no DNS rebinding), and checks every redirect the same way.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL may not be reached; the message says why."""


@dataclass(frozen=True)
class CheckedTarget:
    scheme: str
    host: str
    port: int
    address: str  # the resolved address to connect to
    path: str  # path and query, as sent in the request line


def _host_allowed(host: str) -> bool:
    patterns = [str(p).lower() for p in settings.CALLBACK_ALLOWED_HOSTS]
    if not patterns:
        return True
    for pattern in patterns:
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


def _explicitly_allowed(address: IPAddress) -> bool:
    for network in settings.CALLBACK_ALLOWED_NETWORKS:
        if address in ipaddress.ip_network(str(network), strict=False):
            return True
    return False


def _why_internal(address: IPAddress) -> str:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    for label, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
    ):
        if flag:
            return label
    return ""


def check_url(url: str) -> CheckedTarget:
    """Resolve ``url`` and check it; raises ``AddressRefused`` saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(f"{url}: only http and https callbacks are allowed")
    host = (parts.hostname or "").lower()
    if not host:
        raise AddressRefused(f"{url}: no host")
    if parts.username or parts.password:
        raise AddressRefused(f"{url}: credentials in the URL are not allowed (use token)")
    if not _host_allowed(host):
        raise AddressRefused(f"{url}: host {host} is not in CALLBACK_ALLOWED_HOSTS")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise AddressRefused(f"{url}: {exc}") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{url}: cannot resolve {host}: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise AddressRefused(f"{url}: {host} has no address")
    # every address must pass: a name resolving to one public and one internal address is refused
    for address in addresses:
        why = _why_internal(address)
        if why and not _explicitly_allowed(address):
            raise AddressRefused(
                f"{url}: {host} resolves to {address}, a {why} address (not in CALLBACK_ALLOWED_NETWORKS)"
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return CheckedTarget(parts.scheme, host, port, str(addresses[0]), path)
