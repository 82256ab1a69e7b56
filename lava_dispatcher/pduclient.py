"""``pduclient``: switch one PDU outlet through a pdudaemon.

    pduclient --daemon HOST[:PORT] --hostname PDU --port OUTLET --command on|off|reboot [--delay S]

Device dictionaries put this in ``power_on_command`` / ``power_off_command`` /
``hard_reset_command``. It talks to pdudaemon's HTTP listener
(``GET /power/control/<command>?hostname=PDU&port=OUTLET``), which answers only
after the PDU driver ran, so a zero exit status means the outlet was switched.
Every failure is one line on stderr and a non-zero exit status, which the
dispatcher reports as an infrastructure error.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_PORT = 16421
COMMANDS = ("on", "off", "reboot")
# pdudaemon replies after the driver ran; a reboot with its default 5 s delay takes about 5.3 s
DEFAULT_TIMEOUT = 60.0


class PDUClientError(Exception):
    """A request the daemon could not be asked or refused; the message says which and why."""


def daemon_address(daemon: str) -> tuple[str, int]:
    """``HOST`` or ``HOST:PORT`` (``[v6]:PORT`` for IPv6) -> (host, port)."""
    host, port = daemon, DEFAULT_PORT
    if daemon.startswith("["):
        end = daemon.find("]")
        if end < 0:
            raise PDUClientError(f"--daemon {daemon!r}: missing ']' after the IPv6 address")
        host, rest = daemon[1:end], daemon[end + 1 :]
        if rest:
            port = _port(rest.removeprefix(":"), daemon)
    elif daemon.count(":") == 1:
        host, text = daemon.split(":")
        port = _port(text, daemon)
    if not host:
        raise PDUClientError(f"--daemon {daemon!r}: no host name")
    return host, port


def _port(text: str, daemon: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise PDUClientError(f"--daemon {daemon!r}: {text!r} is not a TCP port number")
    return int(text)


def request_url(daemon: str, pdu: str, outlet: str, command: str, delay: float | None = None) -> str:
    host, port = daemon_address(daemon)
    if command not in COMMANDS:
        raise PDUClientError(f"--command {command!r}: must be one of {', '.join(COMMANDS)}")
    query = {"hostname": pdu, "port": outlet}
    if delay is not None:
        query["delay"] = f"{delay:g}"
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"http://{netloc}/power/control/{command}?{urllib.parse.urlencode(query)}"


def switch(daemon: str, pdu: str, outlet: str, command: str, delay: float | None = None,
           timeout: float = DEFAULT_TIMEOUT) -> str:
    """Ask the daemon to switch the outlet; returns its reply text, raises PDUClientError on any failure."""
    url = request_url(daemon, pdu, outlet, command, delay)
    what = f"'{command}' for outlet {outlet} of PDU '{pdu}'"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.read().decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace").strip()
        raise PDUClientError(
            f"the PDU daemon at {daemon} refused {what}: HTTP {exc.code} {body or exc.reason}"
            " (is the PDU name configured in pdudaemon.conf?)"
        ) from None
    except urllib.error.URLError as exc:
        raise PDUClientError(f"cannot reach the PDU daemon at {daemon} for {what}: {exc.reason}") from None
    except TimeoutError:
        raise PDUClientError(f"the PDU daemon at {daemon} did not answer {what} within {timeout:g} s") from None
    except OSError as exc:
        raise PDUClientError(f"talking to the PDU daemon at {daemon} for {what} failed: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pduclient", description="Switch a PDU outlet through pdudaemon")
    parser.add_argument("--daemon", required=True, help=f"pdudaemon host, HOST or HOST:PORT (port {DEFAULT_PORT})")
    parser.add_argument("--hostname", required=True, help="the PDU's name in pdudaemon's configuration")
    parser.add_argument("--port", required=True, help="the outlet")
    parser.add_argument("--command", required=True, choices=COMMANDS)
    parser.add_argument("--delay", type=float, help="seconds between off and on for a reboot (daemon default: 5)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the reply")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        reply = switch(args.daemon, args.hostname, args.port, args.command, args.delay, args.timeout)
    except PDUClientError as exc:
        print(f"pduclient: {exc}", file=sys.stderr)
        return 1
    print(f"pduclient: {args.hostname} outlet {args.port} {args.command}: {reply}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
