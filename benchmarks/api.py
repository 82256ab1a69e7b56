#!/usr/bin/env python3
"""XML-RPC figures, one client: jobs.validate and jobs.submit per second, jobs.logs on a 1,000,000-line log.

Serves the API as the lab in a box does (``./lab.sh``): gunicorn with the
packaged service's arguments (``etc/lava-server/lava-server-gunicorn``:
gthread workers, keep-alive) in front of ``lava_server.wsgi_lab``, on a
throwaway PostgreSQL that flushes each commit to disk as a lab's does (or
``$LAVA_DATABASE_URL``). One client calls it over
one kept-alive HTTP connection with HTTP Basic (username + token), as
lavacli does, in two ways:

* ``xmlrpc.client`` over ``http.client`` (the figure compared with the
  target): the cost of the server and of the XML-RPC marshalling;
* lavacli's own transport (``requests``), whose client side alone costs
  about 1 ms of CPU a call (it reads the proxy settings from the whole
  environment on every request), which bounds what any server can show
  through it on a 2-core machine.

Each figure comes with the server's CPU time per call (the gunicorn
processes' own clock, not wall time: on a shared machine the wall figures
move with the load, this one much less) and the calls per second that CPU
time allows. Every submitted and validated definition differs from the
previous one (a comment with a counter), so nothing can be answered from a
cache of earlier answers. "The floor" is the same client and gunicorn
arguments against an application that sends a fixed answer: no application
can show more calls per second on this machine. Also prints each call's cost in process: the
method dispatcher alone (no HTTP), then the whole web application called
with a WSGI environ (its CPU per call: the server's figure less gunicorn's
HTTP handling and the socket).
"""

import argparse
import base64
import importlib.util
import io
import itertools
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path

from _django import REPO, setup_django

CORPUS_JOB = REPO.parent / "shared" / "corpus" / "jobs" / "docs" / "qemu-pipeline-first-job.yaml"
FALLBACK_JOB = """\
device_type: qemu
job_name: benchmark
visibility: public
timeouts: {job: {minutes: 5}}
actions:
- boot: {method: minimal, prompts: ['# ']}
"""
LOG_LINES = 1_000_000
RANGE = 1_000
TARGETS = {"validate": 1000.0, "submit": 500.0}  # calls per second
LOGS_TARGET_MS = 2.0


class WholeBodyTransport(xmlrpc.client.Transport):
    """xmlrpc.client's keep-alive transport, parsing each answer at once: its own reads it
    1 KiB at a time, which costs more than the server for a 1,000-line log."""

    def parse_response(self, response):
        parser, unmarshaller = self.getparser()
        parser.feed(response.read())
        parser.close()
        return unmarshaller.close()


class RequestsTransport(xmlrpc.client.Transport):
    """What lavacli does when lavacli is not installed: POST with requests, parse the whole body."""

    def __init__(self, auth: tuple[str, str]):
        super().__init__()
        import requests

        self.session = requests.Session()
        self.session.auth = auth

    def request(self, host, handler, request_body, verbose=False):
        response = self.session.post(f"http://{host}{handler}", data=request_body,
                                     headers={"Content-Type": "text/xml"}, timeout=20)
        response.raise_for_status()
        parser, unmarshaller = self.getparser()
        parser.feed(response.content)
        parser.close()
        return unmarshaller.close()


def lavacli_proxy(port: int, username: str, token: str, host: str = "127.0.0.1") -> tuple[xmlrpc.client.ServerProxy, str]:
    try:
        from lavacli import RequestsTransport as LavacliTransport
    except ImportError:
        transport, name = RequestsTransport((username, token)), "requests (lavacli is not installed)"
        return xmlrpc.client.ServerProxy(f"http://{host}:{port}/RPC2", allow_none=True, transport=transport), name
    return xmlrpc.client.ServerProxy(f"http://{username}:{token}@{host}:{port}/RPC2", allow_none=True,
                                     transport=LavacliTransport("http")), "lavacli's transport"


def rate(function, seconds: float) -> tuple[float, int]:
    count = 0
    start = time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed, count


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children (gunicorn's arbiter and workers)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        pending.extend(int(child) for child in children)
    return total / os.sysconf("SC_CLK_TCK")


def packaged_gunicorn_args() -> list[str]:
    # the lab's own reading of the packaged arguments (share/lab is a folder of scripts, not a package)
    sys.path.insert(0, str(REPO / "share" / "lab"))
    spec = importlib.util.spec_from_file_location("lab_run", REPO / "share" / "lab" / "run.py")
    lab_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lab_run)
    return lab_run.packaged_gunicorn_args()


def start_server(port: int, workdir: Path, app: str = "lava_server.wsgi_lab:application") -> subprocess.Popen:
    packaged = packaged_gunicorn_args()
    command = [str(Path(sys.executable).parent / "gunicorn"), *packaged, "--no-control-socket",
               "--pythonpath", str(REPO / "benchmarks"), "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    log = open(workdir / f"server-{port}.log", "wb")  # noqa: SIM115 - kept for the process's life
    # a session of its own: stopping it stops its workers too
    server = subprocess.Popen(command, cwd=REPO, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    server.description = f"gunicorn {' '.join(packaged)} {app.partition(':')[0]} (as ./lab.sh)"
    return server


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        # gthread workers wait for kept-alive connections up to --timeout on a graceful stop
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def wait_up(proxy: xmlrpc.client.ServerProxy, server: subprocess.Popen) -> None:
    """Until the server answers and all its workers have loaded the application."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            proxy.system.version()
            break
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the web server exited; see its log") from None
            time.sleep(0.2)
    else:
        raise SystemExit("the web server did not answer within 60 s")
    wait_settled(server, deadline)


def wait_settled(server: subprocess.Popen, deadline: float) -> None:
    """The first worker answers while the others still import Django (each loads the application on its
    own, about a second of CPU): measured then, their start-up would count as the calls' CPU and take
    the client's cores. A lab serves with its workers loaded, so the figures wait for them."""
    before = process_tree_cpu(server.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = process_tree_cpu(server.pid)
        if now - before < 0.02:  # idle workers only wake to tell the arbiter they are alive
            return
        before = now
    raise SystemExit("the web server's workers were still busy after 60 s")


def write_big_log(job) -> None:
    from lava_common.log import format_record
    from lava_scheduler.logs.store import LogStore, job_output_dir

    store = LogStore(job_output_dir(job))
    if store.line_count() >= LOG_LINES:
        return
    # one real record as a pattern: json-encoding a million records would dominate the set-up
    pattern = format_record("target", "line NUMBER: some board output of a realistic length, " + "x" * 40,
                            dt="2026-01-01T00:00:00.000000+00:00")
    head, tail = pattern.split("NUMBER")
    chunk = 100_000
    for first in range(0, LOG_LINES, chunk):
        store.append([f"{head}{n}{tail}" for n in range(first, first + chunk)])


def variants(definition: str) -> Callable[[], str]:
    """A new text each call: the same job with a different comment."""
    counter = itertools.count()
    return lambda: f"{definition}\n# call {next(counter)}\n"


def call_rate(name: str, function: Callable[[], object], seconds: float, server: subprocess.Popen) -> str:
    client, cpu = time.process_time(), process_tree_cpu(server.pid)
    figure, count = rate(function, seconds)
    server_ms = (process_tree_cpu(server.pid) - cpu) * 1000 / count
    client_ms = (time.process_time() - client) * 1000 / count
    capacity = f"{1000 / server_ms:,.0f}/s" if server_ms else "n/a"
    return (f"{figure:7,.0f} calls/s over HTTP ({count} calls); server CPU {server_ms:.3f} ms/call "
            f"(allows {capacity}), client CPU {client_ms:.3f} ms/call")


def fixed_answer_floor(workdir: Path, port: int, next_definition: Callable[[], str], seconds: float) -> str:
    """The same client and gunicorn arguments against an application that sends a fixed answer: the
    rate no application can beat on this machine."""
    server = start_server(port, workdir, "fixed_answer_wsgi:application")
    try:
        proxy = xmlrpc.client.ServerProxy(f"http://bench:token@127.0.0.1:{port}/RPC2", allow_none=True,
                                          transport=WholeBodyTransport())
        wait_up(proxy, server)
        figure = call_rate("validate", lambda: proxy.scheduler.jobs.validate(next_definition(), False), seconds, server)
    finally:
        stop_server(server)
    return f"the same validate calls, xmlrpc.client, answered by a fixed-answer WSGI application: {figure}"


def durability() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
        fsync, synchronous_commit = cursor.fetchone()
    return f"fsync {fsync}, synchronous_commit {synchronous_commit}"


def log_ranges(proxy: xmlrpc.client.ServerProxy, job_id: int, starts: list[int]) -> list[float]:
    timings = []
    for first in starts:
        begin = time.perf_counter()
        _, data = proxy.scheduler.jobs.logs(str(job_id), first, first + RANGE)
        timings.append(time.perf_counter() - begin)
        text = data if isinstance(data, str) else data.data.decode()
        assert text.count("\n") == RANGE
    return timings


def wsgi_cpu_ms(authorization: str, method: str, params: Callable[[], tuple], count: int) -> float:
    """CPU milliseconds per call of the web application called in process with a WSGI environ (no socket,
    no gunicorn): what the server costs beside its HTTP handling."""
    from lava_server.wsgi import application

    def call_once() -> None:
        body = xmlrpc.client.dumps(params(), method, allow_none=True).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/RPC2", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
                   "HTTP_HOST": "127.0.0.1", "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": authorization,
                   "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
        chunks = application(environ, lambda status, headers, exc_info=None: None)
        answer = b"".join(chunks)
        chunks.close()  # as a server does once it has sent the answer
        assert b"<fault>" not in answer, answer[:500]

    call_once()
    start = time.process_time()
    for _ in range(count):
        call_once()
    return (time.process_time() - start) * 1000 / count


def ms(timings: list[float]) -> str:
    return f"median {statistics.median(timings) * 1000:.2f} ms, worst {max(timings) * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum time per figure")
    args = parser.parse_args()
    # a submission's figure includes its commit: flushed to disk, as on a lab's PostgreSQL
    os.environ.setdefault("PG_TEMP_DURABLE", "1")
    setup_django()
    from django.contrib.auth.models import User

    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.lab.models import Device, DeviceType, Worker
    from lava_server.accounts.models import AuthToken
    from lava_server.xmlrpc.dispatcher import call
    from lava_server.xmlrpc.registry import Context
    from tests.server.live_lab import free_port

    definition = CORPUS_JOB.read_text() if CORPUS_JOB.exists() else FALLBACK_JOB
    user = User.objects.create_user("bench")
    token = AuthToken.objects.create(user=user).secret
    DeviceType.objects.create(name="qemu")
    worker = Worker.objects.create(hostname="bench-worker")
    Device.objects.create(hostname="qemu-01", device_type_id="qemu", worker_host=worker)
    log_job = TestJob.objects.create(submitter=user, is_public=True, definition=definition,
                                     requested_device_type_id="qemu", description="big log")
    started = time.perf_counter()
    write_big_log(log_job)
    print(f"wrote a {LOG_LINES:,}-line log in {time.perf_counter() - started:.1f} s")

    workdir = Path(os.environ["LAVA_STATE_DIR"])
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(port, workdir)
    next_definition = variants(definition)
    starts = [random.randrange(0, LOG_LINES - RANGE) for _ in range(200)]
    try:
        lean = xmlrpc.client.ServerProxy(f"http://bench:{token}@127.0.0.1:{port}/RPC2", allow_none=True,
                                         transport=WholeBodyTransport())
        lavacli, lavacli_name = lavacli_proxy(port, "bench", token)
        wait_up(lean, server)
        print(f"server: {server.description}; job: {CORPUS_JOB.name if CORPUS_JOB.exists() else 'built-in'}; "
              f"PostgreSQL: {durability()}")
        for client_name, proxy in (("xmlrpc.client, keep-alive", lean), (lavacli_name, lavacli)):
            print(f"client: {client_name}")
            proxy.system.version()  # the connection is open before the clock starts
            for method, call_once in (
                ("validate", lambda p=proxy: p.scheduler.jobs.validate(next_definition(), False)),
                ("submit", lambda p=proxy: p.scheduler.jobs.submit(next_definition())),
            ):
                figure = call_rate(method, call_once, args.seconds, server)
                print(f"  scheduler.jobs.{method + ':':<10}{figure}; target >= {TARGETS[method]:,.0f}/s")
            client, cpu = time.process_time(), process_tree_cpu(server.pid)
            timings = log_ranges(proxy, log_job.pk, starts)
            server_ms = (process_tree_cpu(server.pid) - cpu) * 1000 / len(starts)
            client_ms = (time.process_time() - client) * 1000 / len(starts)
            print(f"  scheduler.jobs.logs, {RANGE:,} lines of {LOG_LINES:,}: {ms(timings)} over HTTP "
                  f"(target <= {LOGS_TARGET_MS:g} ms); server CPU {server_ms:.3f} ms/call, "
                  f"client CPU {client_ms:.3f} ms/call")
    finally:
        stop_server(server)
    print(f"the floor: {fixed_answer_floor(workdir, free_port(), next_definition, args.seconds)}")

    ctx = Context(user)
    figure, _ = rate(lambda: call(ctx, "scheduler.jobs.validate", (next_definition(), False)), args.seconds)
    print(f"in process (no HTTP): validate {figure:.0f}/s", end="")
    figure, _ = rate(lambda: call(ctx, "scheduler.jobs.submit", (next_definition(),)), args.seconds)
    print(f", submit {figure:.0f}/s", end="")
    timings = []
    for first in starts:
        begin = time.perf_counter()
        call(ctx, "scheduler.jobs.logs", (str(log_job.pk), first, first + RANGE))
        timings.append(time.perf_counter() - begin)
    print(f", logs {statistics.median(timings) * 1000:.2f} ms median")
    authorization = "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()
    figures = [
        wsgi_cpu_ms(authorization, "scheduler.jobs.validate", lambda: (next_definition(), False), 1000),
        wsgi_cpu_ms(authorization, "scheduler.jobs.submit", lambda: (next_definition(),), 300),
        wsgi_cpu_ms(authorization, "scheduler.jobs.logs", lambda: (str(log_job.pk), (first := random.choice(starts)),
                                                                    first + RANGE), 300),
    ]
    print("through the WSGI application, in process (no socket, no gunicorn): CPU per call: validate "
          "{:.3f} ms, submit {:.3f} ms, logs {:.3f} ms".format(*figures))
    print(f"a client's parse of one {RANGE:,}-line jobs.logs answer alone (xmlrpc.client over expat, the "
          f"whole body at once): {answer_parse_ms(authorization, log_job.pk):.3f} ms of CPU")


def answer_parse_ms(authorization: str, job_id: int) -> float:
    """What every XML-RPC client pays to read a 1,000-line answer, whatever the server: the floor of
    the client's share of the 2 ms (lavacli's transport adds requests' own handling)."""
    from lava_server.xmlrpc.dispatcher import answer_post

    body = xmlrpc.client.dumps((str(job_id), 5000, 5000 + RANGE), "scheduler.jobs.logs", allow_none=True).encode()
    answer = answer_post(authorization, body).body
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(100):
            xmlrpc.client.loads(answer)
        best = min(best, (time.process_time() - start) * 10)
    return best


if __name__ == "__main__":
    main()
