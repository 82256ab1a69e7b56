"""MultiNode coordinator figures: a group of simulated members on the real lava-coordinator daemon.

Each member is a thread speaking the wire protocol through CoordinatorClient (one TCP connection
per request, as lava-run does). Prints:
  - messages per second: every member lava_sends N messages then lava_waits for each other
    member's (send + wait requests per second, all members together);
  - sync release: time from the last member's lava_sync to every member released (poll_delay
    bounds it: a waiting member learns of the release at its next poll);
  - the same two figures with local-shell members (when busybox is installed): each member is
    lava-test-runner of a real overlay in busybox sh, calling the real lava-send / lava-wait-all /
    lava-sync helpers, served by lava-run's MultinodeProtocol as on a board's console.

usage: .venv/bin/python benchmarks/multinode.py [MEMBERS] [MESSAGES] [POLL_DELAY]
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from lava_common.coordinator.client import CoordinatorClient  # noqa: E402
from lava_dispatcher.protocols.multinode import MultinodeProtocol  # noqa: E402
from lava_dispatcher.protocols.multinode_job import MultinodeSettings, parse_signal  # noqa: E402
from lava_dispatcher.test_shell.definitions import fetch_definitions  # noqa: E402
from lava_dispatcher.test_shell.overlay import MultinodeIdentity, OverlaySpec, build_overlay  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_daemon(work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    (work / "c.conf").write_text("{}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lava_common.coordinator", "--config", str(work / "c.conf"), "--logfile",
         str(work / "coordinator.log"), "--loglevel", "WARNING", "--listen", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the coordinator did not start")


def run_members(count: int, body) -> None:
    threads = [threading.Thread(target=body, args=(str(i),)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def shell_members(work: Path, port: int, members: int, messages: int, poll_delay: float) -> None:
    """Local-shell members: the helpers on busybox sh, the protocol of lava-run, the coordinator."""
    busybox = shutil.which("busybox")
    if busybox is None:
        print("local-shell members: skipped (busybox is not installed)")
        return
    bindir = work / "bb"
    bindir.mkdir()
    subprocess.run([busybox, "--install", "-s", str(bindir)], check=True)
    roles = {str(100 + i): "member" for i in range(members)}
    steps = [f"for i in $(seq {messages}); do lava-send m$i from=$(lava-self); done",
             f"for i in $(seq {messages}); do lava-wait-all m$i; done",
             "lava-sync bench-sync"]
    released: dict[str, float] = {}
    sync_arrivals: list[float] = []
    lock = threading.Lock()

    def member(job_id: str) -> None:
        home = work / f"member-{job_id}"
        settings = MultinodeSettings.from_job({"protocols": {"lava-multinode": {
            "target_group": "bench-shell", "role": "member", "roles": roles, "group_size": members,
            "timeout": {"minutes": 5}}}})
        protocol = MultinodeProtocol(settings, job_id, CoordinatorClient("127.0.0.1", port, poll_delay=poll_delay))
        definition = {"from": "inline", "name": "bench", "path": "bench.yaml", "repository": {
            "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "bench"}, "run": {"steps": steps}}}
        built = build_overlay(home / "root", OverlaySpec(
            job_id=job_id, stages={0: fetch_definitions([definition], home / "defs")}, results_dir=str(home / "lava"),
            sh_cmd=str(bindir / "sh"), multinode=MultinodeIdentity(job_id, "member", roles)))
        shutil.move(str(home / "root" / str(home / "lava").lstrip("/")), home / "lava")
        env = {"PATH": str(bindir), "SHELL": str(bindir / "sh"), "HOME": str(home),
               "LAVA_MULTI_NODE_CACHE": str(home / "cache.txt")}
        proc = subprocess.Popen([str(bindir / "sh"), "-c", f"{built.environment_command()} && {built.runner_command(0)}"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env, bufsize=1)
        protocol.initialise()
        for line in proc.stdout:
            call = parse_signal(line)
            if call is None:
                continue
            if call.api == "SYNC":
                with lock:
                    sync_arrivals.append(time.monotonic())
            reply = protocol.serve(call)
            if call.api == "SYNC":
                with lock:
                    released[job_id] = time.monotonic()
            proc.stdin.write(reply + "\n")
            proc.stdin.flush()
        protocol.finalise()
        proc.wait(30)

    started = time.monotonic()
    threads = [threading.Thread(target=member, args=(job_id,)) for job_id in roles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    calls = members * messages * 2
    print(f"local-shell members: {members} x {messages} lava-send + lava-wait-all through the helpers: {calls} calls "
          f"in {elapsed:.2f} s = {calls / elapsed:.0f} calls/s ({members * messages / elapsed:.0f} messages/s), "
          f"sync included")
    print(f"local-shell sync release: last lava-sync to every member released in "
          f"{(max(released.values()) - max(sync_arrivals)) * 1000:.0f} ms")


def main() -> int:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    messages = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    poll_delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    work = Path(tempfile.mkdtemp(prefix="lava-coordinator-bench-"))
    proc, port = start_daemon(work)
    released: dict[str, float] = {}
    last_arrival = [0.0]
    lock = threading.Lock()

    def ident(name: str) -> dict:
        return {"client_name": name, "group_name": "bench", "group_size": members, "role": "r", "hostname": "h"}

    def exchange(name: str) -> None:
        client = CoordinatorClient("127.0.0.1", port, poll_delay=poll_delay)
        client.call({"request": "group_data", **ident(name)}, 60, "register")
        for i in range(messages):
            client.call({"request": "lava_send", "messageID": f"m{i}", "message": {"from": name}, **ident(name)}, 60, "send")
        for i in range(messages):
            client.call({"request": "lava_wait_all", "messageID": f"m{i}", **ident(name)}, 60, "wait-all")

    def sync(name: str) -> None:
        client = CoordinatorClient("127.0.0.1", port, poll_delay=poll_delay)
        time.sleep(0.2 * int(name) / members)  # arrivals spread over 0.2 s, the last one is timed
        with lock:
            last_arrival[0] = max(last_arrival[0], time.monotonic())
        client.call({"request": "lava_sync", "messageID": "bench-sync", **ident(name)}, 60, "sync")
        with lock:
            released[name] = time.monotonic()

    try:
        started = time.monotonic()
        run_members(members, exchange)
        elapsed = time.monotonic() - started
        requests = members * messages * 2
        print(f"{members} members, {messages} messages each: {requests} send/wait-all requests in {elapsed:.2f} s "
              f"= {requests / elapsed:.0f} requests/s ({members * messages / elapsed:.0f} messages/s)")
        run_members(members, sync)
        print(f"sync release: last arrival to every member released in "
              f"{(max(released.values()) - last_arrival[0]) * 1000:.0f} ms (poll_delay {poll_delay} s)")
        shell_members(work, port, members, messages, poll_delay)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
