"""lava-worker with real processes: the worker, a fake lava-run, and a ROUTER socket as the master."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from lava_common.log import parse_record

from .test_worker_fakes import FakeMaster, group_gone, start_message, start_worker, stop, wait_until


@pytest.fixture
def master():
    fake = FakeMaster()
    yield fake
    fake.close()


@pytest.fixture
def workers():
    started = []
    yield started
    for process in started:
        stop(process)


def job(tmp_path: Path, **params) -> dict:
    return {"runs_file": str(tmp_path / "runs"), **params}


def runs(tmp_path: Path) -> int:
    path = tmp_path / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def pids(tmp_path: Path, job_id: int) -> dict:
    path = tmp_path / "worker" / "jobs" / str(job_id) / "output" / "pids"
    assert wait_until(path.exists, 5), "fake lava-run did not start"
    assert wait_until(lambda: path.read_text().endswith("}"), 5)
    return json.loads(path.read_text())


def expected_lines(count: int) -> list[str]:
    return [f'- {{"dt": "2026-01-01T00:00:00", "lvl": "info", "msg": "line {i}"}}' for i in range(count)]


def test_start_logs_end(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    hello = master.wait_for("hello")
    assert hello["jobs"] == [] and hello["version"]
    master.send("start", **start_message(7, job(tmp_path, lines=2500, flush_every=100)))
    master.wait_for("start-ok", job_id=7)
    end = master.wait_for("end", job_id=7)
    assert end["result"] == "pass" and end["error_type"] == ""
    assert end["log_lines"] == 2500
    assert end["description"] == "job: fake\n"
    assert end["errors"] == "fake lava-run: done"
    assert master.stored[7] == expected_lines(2500)  # the partial last line is not sent
    batches = [m for _, m in master.received if m["type"] == "logs"]
    assert all(len(b["lines"]) <= 1000 for b in batches)
    assert [b["start"] for b in batches] == sorted(b["start"] for b in batches)
    assert wait_until(lambda: not (tmp_path / "worker" / "jobs" / "7").exists(), 5)
    assert runs(tmp_path) == 1


def test_end_latency_and_failures(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    master.send("start", **start_message(1, job(tmp_path, lines=10, result="fail")))
    end = master.wait_for("end", job_id=1)
    received = next(t for t, m in master.received if m["type"] == "end")
    exited = float((tmp_path / "runs.exit").read_text().split()[0])
    # the fake's clock is wall time; convert the master's monotonic receive time
    latency = received - time.monotonic() + time.time() - exited
    assert latency < 0.2, f"lava-run exit -> end took {latency:.3f} s"
    assert (end["result"], end["error_type"], end["error_msg"]) == ("fail", "Test", "it failed")
    master.send("start", **start_message(2, job(tmp_path, lines=3, result="none")))
    end = master.wait_for("end", job_id=2)
    assert (end["result"], end["error_type"]) == ("fail", "Bug")
    assert end["error_msg"] == "lava-run ended without a result (exit code 1)"
    assert end["log_lines"] == 3


def test_duplicate_start(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    message = start_message(3, job(tmp_path, lines=5, sleep=1.0))
    master.send("start", **message)
    master.wait_for("start-ok", job_id=3)
    master.send("start", **message)
    master.wait_for("start-ok", job_id=3)
    master.ack_end = False  # keep the job finished but unacknowledged
    master.wait_for("end", job_id=3)
    master.send("start", **message)
    assert master.wait_for("end", job_id=3, timeout=1)["result"] == "pass"  # at once, not a heartbeat later
    master.ack_end = True
    master.wait_for("end", job_id=3)
    assert runs(tmp_path) == 1


def test_spawn_failure(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    master.send("start", **start_message(4, job(tmp_path), env="overrides: [1, 2]\n"))
    failed = master.wait_for("start-failed", job_id=4)
    assert "env.yaml" in failed["error"] and "overrides" in failed["error"]
    assert not (tmp_path / "worker" / "jobs" / "4").exists()
    assert runs(tmp_path) == 0


def test_env_yaml(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    env = f"purge: true\noverrides:\n  PATH: {os.environ['PATH']}\n  LAVA_TEST_X: 'yes'\n"
    master.send("start", **start_message(5, job(tmp_path, sleep=2.0), env=env))
    info = pids(tmp_path, 5)
    environ = dict(
        item.split("=", 1) for item in Path(f"/proc/{info['pid']}/environ").read_text().split("\0") if "=" in item
    )
    assert environ == {"PATH": os.environ["PATH"], "LAVA_TEST_X": "yes"}
    master.send("cancel", job_id=5)
    master.wait_for("end", job_id=5)


def test_master_silence_reconnect_resends_from_acked(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    master.send("start", **start_message(6, job(tmp_path, lines=400, line_delay=0.005)))
    master.wait_for("logs", job_id=6)
    acked = len(master.stored[6])
    master.deaf = True
    silent_from = time.monotonic()
    master.wait_for("hello", timeout=5)  # the probe, then the reconnect, each say hello
    master.deaf = False
    while master.kinds()[-1] != "hello" or time.monotonic() - silent_from < 3 * 0.3:
        master.wait_for("hello", timeout=5)
    resent = master.wait_for("logs", job_id=6)
    assert resent["start"] == acked
    end = master.wait_for("end", job_id=6, timeout=15)
    assert end["log_lines"] == 400
    assert master.stored[6] == expected_lines(400)
    log = (tmp_path / "worker.log").read_text()
    assert "link to the master down" in log


@pytest.mark.parametrize(("lava_run_alive", "stop_signal"), [
    (True, signal.SIGKILL), (False, signal.SIGKILL), (True, signal.SIGTERM),
], ids=["adopted", "ended-while-away", "stopped-cleanly"])
def test_worker_killed_mid_job(tmp_path, master, workers, lava_run_alive, stop_signal):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    master.send("start", **start_message(8, job(tmp_path, lines=300, line_delay=0.005, sleep=0.5)))
    master.wait_for("start-ok", job_id=8)
    master.wait_for("logs", job_id=8)
    info = pids(tmp_path, 8)
    workers[0].send_signal(stop_signal)
    workers[0].wait(5)
    if not lava_run_alive:
        assert wait_until(lambda: (tmp_path / "runs.exit").exists(), 10)
    else:
        assert Path(f"/proc/{info['pid']}").exists()
    master.serve(0.2)  # drain what the dead worker had sent
    workers.append(start_worker(tmp_path, master.url))
    hello = master.wait_for("hello")
    assert hello["jobs"] == [{"id": 8, "state": "running" if lava_run_alive else "finished"}]
    master.send("start", **start_message(8, job(tmp_path, lines=300)))  # the master re-sends: not run twice
    end = master.wait_for("end", job_id=8, timeout=15)
    assert end["result"] == "pass" and end["log_lines"] == 300
    assert master.stored[8] == expected_lines(300)
    assert runs(tmp_path) == 1
    assert wait_until(lambda: not (tmp_path / "worker" / "jobs" / "8").exists(), 5)


def test_cancel_terminates_process_group(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    master.send("start", **start_message(9, job(tmp_path, lines=5, sleep=30, child=True)))
    info = pids(tmp_path, 9)
    master.send("cancel", job_id=9)
    end = master.wait_for("end", job_id=9)
    assert (end["result"], end["error_type"]) == ("fail", "Canceled")
    assert wait_until(lambda: group_gone(info["pgid"]), 2)
    assert info["pgid"] == info["pid"]  # its own process group


def test_cancel_stubborn_gets_sigkill(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url, "--cancel-kill-after", "0.5"))
    master.wait_for("hello")
    master.send("start", **start_message(10, job(tmp_path, sleep=30, ignore_term=True, child=True)))
    info = pids(tmp_path, 10)
    master.send("cancel", job_id=10)
    canceled_at = time.monotonic()
    master.serve(0.2)
    master.send("cancel", job_id=10)  # the master repeats it: still one SIGTERM, then the timer
    end = master.wait_for("end", job_id=10)
    assert time.monotonic() - canceled_at >= 0.5
    assert (end["result"], end["error_type"]) == ("fail", "Canceled")
    assert "killed by SIGKILL" in end["error_msg"]
    assert wait_until(lambda: group_gone(info["pgid"]), 2)


def test_cancel_unknown_job(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    master.send("cancel", job_id=11)
    end = master.wait_for("end", job_id=11)
    assert (end["result"], end["error_type"], end["log_lines"]) == ("fail", "Canceled", 0)
    assert wait_until(lambda: not (tmp_path / "worker" / "jobs" / "11").exists(), 5)


def test_refused_exit(tmp_path, master, workers):
    process = start_worker(tmp_path, master.url, "--exit-on-refused")
    workers.append(process)
    master.deaf = True
    master.wait_for("hello")
    master.send("refused", reason="version mismatch: worker 1, server 2")
    assert process.wait(5) == 1
    assert "refused this worker: version mismatch" in process.stderr.read()


def test_configuration_errors(tmp_path):
    import subprocess
    import sys

    from .test_worker_fakes import REPO

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lava_dispatcher.worker.cli", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=30)

    proc = run("--master", "tcp://127.0.0.1:1")
    assert proc.returncode == 1 and "--plaintext" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("--master", "tcp://127.0.0.1:1", "--master-cert", str(tmp_path / "nope.key"),
               "--worker-cert", str(tmp_path / "nope.key_secret"))
    assert proc.returncode == 1 and "nope.key" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("--master", f"ipc://{tmp_path}/master.sock", "--plaintext", "--lava-run", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "--lava-run" in proc.stderr
    # plain text over TCP: a QEMU guest with user networking reaches the host's loopback
    proc = run("--master", "tcp://127.0.0.1:1", "--plaintext", "--lava-run", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "ipc://" in proc.stderr and "--lava-run" not in proc.stderr
    proc = run("--master", "tcp://127.0.0.1:1", "--plaintext", "--allow-plaintext-tcp",
               "--lava-run", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "--lava-run" in proc.stderr
    proc = run("--master", "tcp://127.0.0.1:1", "--plaintext", "--name", "a/b")
    assert proc.returncode == 1 and "without '/'" in proc.stderr and "Traceback" not in proc.stderr


def test_real_lava_run_minimal_boot(tmp_path, master, workers):
    """The real lava-run, booting the fake board (a local shell) with the minimal boot method."""
    from .helpers import HERE, write_dispatcher_config

    lava_run = Path(sys.executable).parent / "lava-run"
    if not lava_run.exists():
        pytest.skip("lava-run is not installed in this virtualenv")
    workers.append(start_worker(tmp_path, master.url, "--lava-run", str(lava_run)))
    master.wait_for("hello")
    master.send("start", job_id=21, definition=(HERE / "jobs" / "minimal.yaml").read_text(),
                device=(HERE / "devices" / "fake-board.yaml").read_text(),
                dispatcher=write_dispatcher_config(tmp_path).read_text(), env="", env_dut="")
    master.wait_for("start-ok", job_id=21)
    end = master.wait_for("end", job_id=21, timeout=60)
    assert end["result"] == "pass", end
    assert end["log_lines"] == len(master.stored[21]) > 3
    records = [parse_record(line) for line in master.stored[21]]
    job_result = [r["msg"] for r in records if r["lvl"] == "results" and r["msg"].get("case") == "job"]
    assert job_result and job_result[-1]["result"] == "pass"
    assert "minimal" in end["description"]


def test_one_worker_per_directory(tmp_path, master, workers):
    workers.append(start_worker(tmp_path, master.url))
    master.wait_for("hello")
    second = start_worker(tmp_path, master.url, name="worker-2")
    workers.append(second)
    assert second.wait(10) == 1
    assert "another lava-worker is using" in second.stderr.read()


def test_master_down_then_back_on_the_same_address(tmp_path, workers):
    first = FakeMaster()
    workers.append(start_worker(tmp_path, first.url))
    first.wait_for("hello")
    first.send("start", **start_message(12, job(tmp_path, lines=600, line_delay=0.004)))
    first.wait_for("logs", job_id=12)
    stored, port = first.stored, first.port
    first.close()  # killed: whatever was in flight is lost
    time.sleep(1.5)  # five heartbeats of absence
    second = FakeMaster(port=port)
    second.stored = stored  # a restarted master still has what it stored
    try:
        back = time.monotonic()
        second.wait_for("hello", timeout=10)
        assert time.monotonic() - back < 1.5, "the worker took too long to find the master again"
        end = second.wait_for("end", job_id=12, timeout=15)
        assert end["log_lines"] == 600 and second.stored[12] == expected_lines(600)
    finally:
        second.close()
    assert (tmp_path / "worker.log").read_text().count("connecting to") <= 2
