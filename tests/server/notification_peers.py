"""Real network peers for notification tests: a small SMTP server, IRC server and HTTP server.

Each listens on 127.0.0.1 on a free port in a thread of the test process and
records what it received. They speak just enough of their protocol for a
standard client (smtplib, an IRC client, http.client) to complete.
"""

import json
import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def _serve(server) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: object


class SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test-smtp ready")
        sender, recipients = "", []
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test-smtp")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip().strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.mails.append(Mail(sender, recipients, message_from_bytes(data)))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


class IRCHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        nick = None
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            command, _, rest = line.partition(" ")
            if command == "NICK":
                nick = rest
            elif command == "USER" and nick:
                self.wfile.write(f":test-irc 001 {nick} :Welcome\r\n".encode())
            elif command == "PRIVMSG":
                target, _, text = rest.partition(" :")
                self.server.messages.append((nick, target, text))
            elif command == "QUIT":
                return


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class HTTPHandler(BaseHTTPRequestHandler):
    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(Request(self.command, self.path, dict(self.headers), body))
        redirect = self.server.redirects.get(self.path.split("?")[0])
        if redirect:
            self.send_response(302)
            self.send_header("Location", redirect)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, *args) -> None:
        pass


@dataclass
class Peers:
    smtp: _Server
    irc: _Server
    http: ThreadingHTTPServer
    mails: list[Mail] = field(default_factory=list)
    irc_messages: list = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def port(self, name: str) -> int:
        return getattr(self, name).server_address[1]

    def close(self) -> None:
        for server in (self.smtp, self.irc, self.http):
            server.shutdown()
            server.server_close()


def start_peers() -> Peers:
    smtp = _Server(("127.0.0.1", 0), SMTPHandler)
    irc = _Server(("127.0.0.1", 0), IRCHandler)
    http = ThreadingHTTPServer(("127.0.0.1", 0), HTTPHandler)
    http.daemon_threads = True
    peers = Peers(smtp, irc, http)
    smtp.mails, irc.messages, http.requests, http.redirects = peers.mails, peers.irc_messages, peers.requests, {}
    for server in (smtp, irc, http):
        _serve(server)
    return peers


def start_http_on(port: int, peers: Peers) -> ThreadingHTTPServer:
    """Another HTTP server recording into ``peers``, on a given port (a server coming back up)."""
    http = ThreadingHTTPServer(("127.0.0.1", port), HTTPHandler)
    http.daemon_threads = True
    http.requests, http.redirects = peers.requests, {}
    _serve(http)
    return http
