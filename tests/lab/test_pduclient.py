"""pduclient against a stand-in of pdudaemon's HTTP listener: the request it makes, and its errors."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest

from lava_dispatcher import pduclient


class FakeDaemon(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []
    status = 200

    def do_GET(self):  # noqa: N802 - the http.server API
        FakeDaemon.requests.append(self.path)
        body = b"OK - accepted request" if self.status == 200 else b"Invalid request"
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


@pytest.fixture
def daemon():
    FakeDaemon.requests, FakeDaemon.status = [], 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeDaemon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_on_asks_for_the_outlet_of_the_named_pdu(daemon, capsys):
    assert pduclient.main(["--daemon", daemon, "--hostname", "lab-pdu", "--port", "3", "--command", "on"]) == 0
    assert FakeDaemon.requests == ["/power/control/on?hostname=lab-pdu&port=3"]
    assert "lab-pdu outlet 3 on: OK - accepted request" in capsys.readouterr().out


def test_reboot_passes_its_delay(daemon):
    assert pduclient.main(["--daemon", daemon, "--hostname", "p", "--port", "1", "--command", "reboot",
                           "--delay", "0"]) == 0
    assert FakeDaemon.requests == ["/power/control/reboot?hostname=p&port=1&delay=0"]


def test_a_refusal_is_a_clear_error_and_a_failure(daemon, capsys):
    FakeDaemon.status = 500
    assert pduclient.main(["--daemon", daemon, "--hostname", "nope", "--port", "1", "--command", "off"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pduclient: the PDU daemon at ") and "refused 'off' for outlet 1 of PDU 'nope'" in err
    assert "HTTP 500 Invalid request" in err and "Traceback" not in err


def test_no_daemon_is_a_clear_error_and_a_failure(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert pduclient.main(["--daemon", f"127.0.0.1:{port}", "--hostname", "p", "--port", "1",
                           "--command", "on"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the PDU daemon at 127.0.0.1:{port}" in err and "Connection refused" in err


@pytest.mark.parametrize(("daemon", "expected"), [
    ("localhost", ("localhost", 16421)),
    ("10.0.0.5:8080", ("10.0.0.5", 8080)),
    ("[::1]:16500", ("::1", 16500)),
    ("::1", ("::1", 16421)),
])
def test_daemon_addresses(daemon, expected):
    assert pduclient.daemon_address(daemon) == expected


@pytest.mark.parametrize("daemon", ["host:port", "host:0", ":5", "[::1"])
def test_bad_daemon_addresses_say_what_is_wrong(daemon, capsys):
    assert pduclient.main(["--daemon", daemon, "--hostname", "p", "--port", "1", "--command", "on"]) == 1
    assert capsys.readouterr().err.startswith(f"pduclient: --daemon {daemon!r}")


def test_unknown_command_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        pduclient.main(["--daemon", "h", "--hostname", "p", "--port", "1", "--command", "toggle"])
    assert exc.value.code == 2
