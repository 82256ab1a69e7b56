"""MultiNode coordinator figures: a group of simulated members on the real lava-coordinator daemon.

Each member is a thread speaking the wire protocol through CoordinatorClient (one TCP connection
per request, as lava-run does). Prints:
  - messages per second: every member lava_sends N messages then lava_waits for each other
    member's (send + wait requests per second, all members together);
  - sync release: time from the last member's lava_sync to every member released (poll_delay
    bounds it: a waiting member learns of the release at its next poll).

usage: .venv/bin/python benchmarks/multinode.py [MEMBERS] [MESSAGES] [POLL_DELAY]
"""

from __future__ import annotations

import os
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
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
