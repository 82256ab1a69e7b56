"""``LingeringThreadWorker`` under a real gunicorn: kept-alive calls in a row, and no client waits on another's linger.

One worker with one thread and a linger made 30 s long (a config file sets
it in the worker), so that any wait on a lingering thread would show.
"""

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server.live_lab import free_port

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def hello(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server(tmp_path):
    config = tmp_path / "gunicorn.conf.py"
    config.write_text("def post_worker_init(worker):\n"
                      "    import lava_server.gunicorn_worker as module\n"
                      "    module.LINGER = 30.0\n")
    port = free_port()
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "1", "--threads", "1", "--worker-class",
         "lava_server.gunicorn_worker.LingeringThreadWorker", "--no-control-socket", "--config", str(config),
         "--bind", f"127.0.0.1:{port}", "tests.server.test_gunicorn_worker:hello"],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connect(port).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10  # the worker outlives its arbiter by a moment
        while subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True).stdout:
            assert time.monotonic() < deadline, "a gunicorn process was left behind"
            time.sleep(0.1)


def connect(port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.connect()
    return connection


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[bytes, float]:
    started = time.monotonic()
    connection.request("POST", "/RPC2", body=body, headers={"Content-Type": "text/xml"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Connection") != "close"
    return response.read(), time.monotonic() - started


def test_calls_in_a_row_and_other_clients_are_not_held_up(server):
    process, port = server
    first = connect(port)
    for n in range(50):  # one kept-alive connection, answered call after call
        assert post(first, f"call {n}".encode())[0] == f"call {n}".encode()
    # the only thread now lingers on `first` (for 30 s): a new client is served as soon as it waits
    second = connect(port)
    answer, took = post(second, b"second")
    assert answer == b"second" and took < 10
    # and `first`, given back to the main thread, still works, as does `second`, which lingers now
    assert post(first, b"first again")[0] == b"first again"
    assert post(second, b"second again")[0] == b"second again"
    # a stop is not held up by a lingering thread either
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    assert time.monotonic() - started < 10
    first.close()
    second.close()
