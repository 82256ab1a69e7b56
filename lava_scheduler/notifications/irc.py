"""Notification on IRC: a plain client that registers, sends one PRIVMSG and quits.

``server`` is ``host`` or ``host:port`` (6667 by default). The client waits
for the server's welcome (001) before talking, answers PINGs meanwhile, and
gives up after ``IRC_TIMEOUT`` seconds.
"""

import secrets
import socket
import time

from django.conf import settings

from lava_scheduler.notifications.payload import irc_message

DEFAULT_PORT = 6667
# RFC 2812's limit, which servers such as ngircd enforce: longer nicks are refused (432)
NICK_LENGTH = 9


class IRCError(Exception):
    pass


def _split_server(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    if host and port.isdigit():
        return host.strip("[]"), int(port)
    return server, DEFAULT_PORT


def _clean(text: str) -> str:
    # one IRC line: no CR/LF that would start another command
    return text.replace("\r", " ").replace("\n", " ")[:400]


def _wait_welcome(sock: socket.socket, deadline: float) -> None:
    buffer = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        data = sock.recv(4096)
        if not data:
            raise IRCError("the server closed the connection before welcoming us")
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("PING"):
                sock.sendall(("PONG" + line[4:] + "\r\n").encode())
            parts = line.split()
            if len(parts) > 1 and parts[1] == "001":
                return
            if (parts and parts[0] == "ERROR") or (len(parts) > 1 and parts[1] in ("432", "433", "465")):
                raise IRCError(f"refused by the server: {line}")
    raise IRCError("no welcome from the server in time")


def send_irc(notification, job) -> str:
    host, port = _split_server(notification.spec["server"])
    handle = _clean(notification.spec["handle"])
    # unique, as several jobs may end at once: the prefix is cut to leave room for 4 random digits
    nick = settings.IRC_NICK[: NICK_LENGTH - 4] + secrets.token_hex(2)
    deadline = time.monotonic() + settings.IRC_TIMEOUT
    with socket.create_connection((host, port), timeout=settings.IRC_TIMEOUT) as sock:
        sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :LAVA notifications\r\n".encode())
        _wait_welcome(sock, deadline)
        sock.sendall(f"PRIVMSG {handle} :{_clean(irc_message(job))}\r\nQUIT :done\r\n".encode())
    return f"told {handle} on {host}:{port}"
