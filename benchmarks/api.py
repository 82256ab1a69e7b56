#!/usr/bin/env python3
"""XML-RPC figures, one client: jobs.validate and jobs.submit per second, jobs.logs on a 1,000,000-line log.

Serves the API with gunicorn (one gthread worker, as in production behind a
proxy) when it is installed, else with ``manage runserver``, on a throwaway
PostgreSQL (or ``$LAVA_DATABASE_URL``), and calls it with Python's
``xmlrpc.client`` over HTTP with HTTP Basic (username + token), as lavacli
does. Also prints the server-side cost of each call measured in process
(the dispatcher without HTTP), to tell the API's cost from the transport's.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import xmlrpc.client
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


class RequestsTransport(xmlrpc.client.Transport):
    """POSTs with requests and parses the whole body at once, as lavacli's transport does
    (xmlrpc.client's own reads answers 1 KiB at a time, which dominates for big logs)."""

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


def rate(function, seconds: float) -> tuple[float, int]:
    count = 0
    start = time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed, count


def start_server(port: int, workdir: Path) -> subprocess.Popen:
    bindir = Path(sys.executable).parent
    gunicorn = shutil.which("gunicorn", path=str(bindir))
    if gunicorn:
        # gthread keeps connections alive, as the packaged service does; a sync worker closes each one
        command = [gunicorn, "--workers", "1", "--worker-class", "gthread", "--threads", "2",
                   "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "lava_server.wsgi:application"]
    else:
        command = [str(bindir / "lava-server"), "manage", "runserver", "--noreload", f"127.0.0.1:{port}"]
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - kept for the process's life
    server = subprocess.Popen(command, cwd=REPO, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    server.kind = "gunicorn, 1 gthread worker" if gunicorn else "runserver"
    return server


def wait_up(proxy: xmlrpc.client.ServerProxy, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            proxy.system.version()
            return
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the web server exited; see its log") from None
            time.sleep(0.2)
    raise SystemExit("the web server did not answer within 60 s")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum time per figure")
    args = parser.parse_args()
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
    try:
        proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/RPC2", allow_none=True,
                                          transport=RequestsTransport(("bench", token)))
        wait_up(proxy, server)
        print(f"server: {server.kind}; job: {CORPUS_JOB.name if CORPUS_JOB.exists() else 'built-in'}")
        figure, count = rate(lambda: proxy.scheduler.jobs.validate(definition, False), args.seconds)
        print(f"XML-RPC scheduler.jobs.validate: {figure:7.0f} jobs/s over HTTP  ({count} calls; target >= 1,000)")
        figure, count = rate(lambda: proxy.scheduler.jobs.submit(definition), args.seconds)
        print(f"XML-RPC scheduler.jobs.submit:   {figure:7.0f} jobs/s over HTTP  ({count} calls; target >= 500)")

        starts = [random.randrange(0, LOG_LINES - RANGE) for _ in range(200)]
        timings = []
        for first in starts:
            begin = time.perf_counter()
            _, data = proxy.scheduler.jobs.logs(str(log_job.pk), first, first + RANGE)
            timings.append(time.perf_counter() - begin)
            text = data if isinstance(data, str) else data.data.decode()
            assert text.count("\n") == RANGE
        print(f"XML-RPC scheduler.jobs.logs, {RANGE:,} lines of {LOG_LINES:,}: median "
              f"{statistics.median(timings) * 1000:.2f} ms, worst {max(timings) * 1000:.2f} ms over HTTP "
              f"(target <= 2 ms)")
    finally:
        server.terminate()
        server.wait(timeout=20)

    ctx = Context(user)
    figure, _ = rate(lambda: call(ctx, "scheduler.jobs.validate", (definition, False)), args.seconds)
    print(f"in process (no HTTP): validate {figure:.0f}/s", end="")
    figure, _ = rate(lambda: call(ctx, "scheduler.jobs.submit", (definition,)), args.seconds)
    print(f", submit {figure:.0f}/s", end="")
    timings = []
    for first in starts:
        begin = time.perf_counter()
        call(ctx, "scheduler.jobs.logs", (str(log_job.pk), first, first + RANGE))
        timings.append(time.perf_counter() - begin)
    print(f", logs {statistics.median(timings) * 1000:.2f} ms median")


if __name__ == "__main__":
    main()
