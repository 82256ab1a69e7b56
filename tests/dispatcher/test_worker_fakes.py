"""Test doubles for the lava-worker tests: a master on a ROUTER socket, a fake lava-run, a worker process.

No tests here; the fake master keeps the master's storage rule (line i is
stored only after exactly i lines) so the tests can check "exactly once".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import zmq

from lava_common.protocol import decode, encode

REPO = Path(__file__).resolve().parents[2]

FAKE_LAVA_RUN = r'''#!{python}
"""A stand-in for lava-run: its behaviour comes from the job definition (JSON)."""
import json, os, signal, subprocess, sys, time
args = sys.argv[1:]
out = args[args.index("--output-dir") + 1]
job = json.load(open(args[-1]))
with open(job["runs_file"], "a") as runs:
    runs.write(f"{{os.getpid()}}\n")
state = {{"canceled": False}}
def on_term(signum, frame):
    state["canceled"] = True
signal.signal(signal.SIGTERM, signal.SIG_IGN if job.get("ignore_term") else on_term)
child = subprocess.Popen(["sleep", "600"]) if job.get("child") else None
with open(os.path.join(out, "pids"), "w") as pids:
    pids.write(json.dumps({{"pid": os.getpid(), "pgid": os.getpgid(0), "child": child and child.pid}}))
log = open(os.path.join(out, "logs.yaml"), "a")
with open(os.path.join(out, "description.yaml"), "w") as desc:
    desc.write("job: fake\n")
if job.get("bulk"):  # as fast as a file can be written: measures the worker, not this script
    for first in range(0, job["lines"], 10000):
        log.write("".join('- {{"dt": "2026-01-01T00:00:00", "lvl": "info", "msg": "line %d"}}\n' % index
                          for index in range(first, min(first + 10000, job["lines"]))))
        log.flush()
    job["lines"] = 0
for index in range(job.get("lines", 0)):
    if state["canceled"]:
        break
    log.write("- " + json.dumps({{"dt": "2026-01-01T00:00:00", "lvl": "info", "msg": f"line {{index}}"}}) + "\n")
    if index % job.get("flush_every", 1) == 0:
        log.flush()
    if job.get("line_delay"):
        time.sleep(job["line_delay"])
log.write('- {{"dt": "2026-01-01T00:00:00", "lvl": "info", "msg": "partial')  # no newline: never sent
log.flush()
deadline = time.time() + job.get("sleep", 0)
while time.time() < deadline and not state["canceled"]:
    time.sleep(0.01)
if child:
    child.kill()
result = job.get("result", "pass")
if state["canceled"]:
    result = "canceled"
if result == "canceled":
    text = "result: fail\nerror_type: Canceled\nerror_msg: canceled\n"
elif result == "pass":
    text = "result: pass\n"
elif result == "fail":
    text = "result: fail\nerror_type: Test\nerror_msg: it failed\n"
else:
    text = None
if text is not None:
    open(os.path.join(out, "result.yaml"), "w").write("definition: lava\ncase: job\n" + text)
with open(job["runs_file"] + ".exit", "a") as exits:
    exits.write(f"{{time.time()}}\n")
sys.stderr.write("fake lava-run: done\n")
sys.exit(0 if result == "pass" else 1)
'''


def write_fake_lava_run(directory: Path) -> Path:
    path = directory / "fake-lava-run"
    path.write_text(FAKE_LAVA_RUN.format(python=sys.executable))
    path.chmod(0o755)
    return path


def start_message(job_id: int, job: dict[str, Any], env: str = "", env_dut: str = "") -> dict[str, Any]:
    return {
        "job_id": job_id,
        "definition": json.dumps(job),
        "device": "hostname: fake-01\n",
        "dispatcher": "prefix: t-\n",
        "env": env,
        "env_dut": env_dut,
    }


class FakeMaster:
    """A ROUTER socket playing lava-master, driven from the test thread."""

    def __init__(self, heartbeat: float = 0.3, context: zmq.Context | None = None, secret: tuple | None = None,
                 port: int | None = None):
        self.context = context or zmq.Context.instance()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.router.setsockopt(zmq.LINGER, 0)
        if secret is not None:
            self.router.curve_publickey, self.router.curve_secretkey = secret
            self.router.curve_server = True
        if port is None:
            port = self.router.bind_to_random_port("tcp://127.0.0.1")
        else:
            self.router.bind(f"tcp://127.0.0.1:{port}")
        self.port = port
        self.url = f"tcp://127.0.0.1:{port}"
        self.heartbeat = heartbeat
        self.identity = b""
        self.stored: dict[int, list[str]] = {}
        self.ends: dict[int, dict[str, Any]] = {}
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.deaf = False  # True: read and drop everything (a master that went silent)
        self.ack_logs = True
        self.ack_end = True

    def close(self) -> None:
        self.router.close(0)

    def send(self, kind: str, **fields: Any) -> None:
        self.router.send_multipart([self.identity, encode(kind, **fields)])

    def recv(self, timeout: float) -> dict[str, Any] | None:
        if not self.router.poll(timeout * 1000):
            return None
        identity, frame = self.router.recv_multipart()
        self.identity = identity
        message = decode(frame)
        self.received.append((time.monotonic(), message))
        if not self.deaf:
            self._answer(message)
        return message

    def _answer(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "hello":
            self.send("hello-ok", heartbeat=self.heartbeat)
        elif kind == "logs" and self.ack_logs:
            lines = self.stored.setdefault(message["job_id"], [])
            start = message["start"]
            assert start <= len(lines), f"gap: {len(lines)} lines stored, batch starts at {start}"
            for index, line in enumerate(message["lines"], start):
                if index == len(lines):
                    lines.append(line)
            self.send("logs-ok", job_id=message["job_id"], count=len(lines))
        elif kind == "end":
            stored = len(self.stored.get(message["job_id"], []))
            if stored < message["log_lines"]:
                self.send("logs-ok", job_id=message["job_id"], count=stored)
            elif self.ack_end:
                self.ends.setdefault(message["job_id"], message)
                self.send("end-ok", job_id=message["job_id"])

    def wait_for(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.recv(left)
            if message is None:
                break
            if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                return message
        raise AssertionError(f"no {kind} {match or ''} within {timeout} s; got {self.kinds()[-20:]}")

    def serve(self, seconds: float) -> None:
        """Answer whatever comes for a while."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.recv(left)

    def kinds(self) -> list[str]:
        return [message["type"] for _, message in self.received]


def start_worker(tmp_path: Path, master_url: str, *extra: str, name: str = "worker-1") -> subprocess.Popen:
    fake = tmp_path / "fake-lava-run"
    if not fake.exists():
        write_fake_lava_run(tmp_path)
    command = [
        sys.executable, "-m", "lava_dispatcher.worker.cli", "--master", master_url, "--name", name,
        "--worker-dir", str(tmp_path / "worker"), "--lava-run", str(fake), "--heartbeat", "0.3",
        "--level", "DEBUG", "--log-file", str(tmp_path / "worker.log"), *extra,
    ]  # fmt: skip
    if not any(arg.startswith("--master-cert") for arg in extra):
        command += ["--plaintext", "--allow-plaintext-tcp"]  # the fake master listens on loopback TCP
    return subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    # zombies still count for kill(); look for a live member
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return False
    return True


def wait_until(predicate, timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
