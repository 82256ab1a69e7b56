"""lava-worker pieces without processes: log batching, key files, env.yaml, end reports, /proc checks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from lava_common.keys import KeyFileError, create_key_pair, read_key_pair, read_public_key
from lava_dispatcher.processes import group_exists
from lava_dispatcher.worker import procfs
from lava_dispatcher.worker.daemon import IDLE_POLL_SECONDS, LOG_POLL_SECONDS, QUIET_LOG_POLL_SECONDS, Worker
from lava_dispatcher.worker.docker_sweep import uses_docker
from lava_dispatcher.worker.jobs import FINISHED, RUNNING, JobStore, WorkerJob, WorkerJobState
from lava_dispatcher.worker.logs import LogTail
from lava_dispatcher.worker.report import build_end, stderr_tail
from lava_dispatcher.worker.spawn import SpawnError, build_env


def write_lines(path, first, count, tail=""):
    with open(path, "a") as stream:
        for index in range(first, first + count):
            stream.write(f"- {{\"msg\": {index}}}\n")
        stream.write(tail)


# log batching
def test_only_complete_lines_are_sent(tmp_path):
    path = tmp_path / "logs.yaml"
    tail = LogTail(path)
    assert tail.next_batch(flush=True) is None  # no file yet
    write_lines(path, 0, 3, tail='- {"msg": 3')
    batch = tail.next_batch(flush=True)
    assert batch.start == 0 and batch.lines == ['- {"msg": 0}', '- {"msg": 1}', '- {"msg": 2}']
    assert tail.next_batch(flush=True) is None  # one batch in flight
    assert tail.acknowledge(3)
    assert tail.next_batch(flush=True) is None
    with open(path, "a") as stream:
        stream.write("}\n")
    batch = tail.next_batch(flush=True)
    assert batch.start == 3 and batch.lines == ['- {"msg": 3}']


def test_batches_wait_for_a_full_batch_or_the_timer(tmp_path):
    path = tmp_path / "logs.yaml"
    write_lines(path, 0, 10)
    tail = LogTail(path)
    assert tail.next_batch(now=100.0) is None  # 10 lines, timer just started
    assert tail.next_batch(now=100.05) is None
    assert len(tail.next_batch(now=100.11).lines) == 10
    tail.acknowledge(10)
    write_lines(path, 10, 2500)
    batch = tail.next_batch(now=200.0)
    assert (batch.start, len(batch.lines)) == (10, 1000)  # full: no waiting


def test_fewer_stored_than_sent_resends_from_the_count(tmp_path):
    path = tmp_path / "logs.yaml"
    write_lines(path, 0, 50)
    tail = LogTail(path)
    tail.next_batch(flush=True)
    assert tail.acknowledge(20)
    batch = tail.next_batch(flush=True)
    assert batch.start == 20 and batch.lines[0] == '- {"msg": 20}' and len(batch.lines) == 30
    assert not tail.acknowledge(20)  # no progress: nothing moved
    tail.resend()
    assert tail.next_batch(flush=True).start == 20


def test_a_master_that_lost_lines_gets_them_again(tmp_path):
    path = tmp_path / "logs.yaml"
    write_lines(path, 0, 50)
    tail = LogTail(path)
    tail.next_batch(flush=True)
    tail.acknowledge(50)
    assert tail.acknowledge(5)  # behind what it acknowledged before: rewind
    assert (tail.acked_lines, tail.acked_offset) == (5, len("".join(f'- {{"msg": {i}}}\n' for i in range(5))))
    batch = tail.next_batch(flush=True)
    assert batch.start == 5 and batch.lines[0] == '- {"msg": 5}'


def test_restart_from_the_saved_position(tmp_path):
    path = tmp_path / "logs.yaml"
    write_lines(path, 0, 30)
    first = LogTail(path)
    first.next_batch(flush=True)
    first.acknowledge(12)
    second = LogTail(path, first.acked_lines, first.acked_offset)
    batch = second.next_batch(flush=True)
    assert batch.start == 12 and batch.lines[0] == '- {"msg": 12}'
    assert second.total_lines() == 30
    # a master ahead of a stale saved count (worker killed before saving): skip to its count
    assert second.acknowledge(25)
    assert second.next_batch(flush=True).lines[0] == '- {"msg": 25}'


def test_total_lines_of_a_long_log(tmp_path):
    path = tmp_path / "logs.yaml"
    write_lines(path, 0, 5000, tail="- {")
    tail = LogTail(path)
    assert tail.total_lines() == 5000
    assert not tail.all_acknowledged()


# key files
def test_key_pair_round_trip(tmp_path):
    public, secret = create_key_pair(tmp_path / "keys", "worker-1")
    assert (public.name, secret.name) == ("worker-1.key", "worker-1.key_secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    key = read_public_key(public)
    pair = read_key_pair(secret)
    assert len(key) == 40 and pair[0] == key and len(pair[1]) == 40 and pair[1] != key
    assert read_public_key(secret) == key


def test_key_errors_are_clear(tmp_path):
    create_key_pair(tmp_path, "w")
    with pytest.raises(KeyFileError, match="already exists"):
        create_key_pair(tmp_path, "w")
    with pytest.raises(KeyFileError, match="cannot read the key file"):
        read_public_key(tmp_path / "missing.key")
    (tmp_path / "junk.key").write_text("hello\n")
    with pytest.raises(KeyFileError, match="no 'public-key' line"):
        read_public_key(tmp_path / "junk.key")
    with pytest.raises(KeyFileError, match="not the public .key"):
        read_key_pair(tmp_path / "w.key")
    with pytest.raises(KeyFileError, match="plain file name"):
        create_key_pair(tmp_path, "../x")


# env.yaml
def test_env_yaml():
    base = {"PATH": "/bin", "HOME": "/root", "SECRET": "x"}
    assert build_env("", base) == base
    assert build_env("removes: [SECRET]\noverrides: {LANG: C.UTF-8}\n", base) == {
        "PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8"
    }
    assert build_env("purge: true\noverrides:\n  PATH: /usr/bin\n  N: 3\n", base) == {"PATH": "/usr/bin", "N": "3"}
    for bad, where in [("[1]", "mapping"), ("overrides: [A]", "overrides"), ("removes: A", "removes"),
                       ("purge: [", "env.yaml")]:
        with pytest.raises(SpawnError, match=where):
            build_env(bad, base)


# end reports
def test_end_report_without_a_result(tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "stderr").write_text('- {"lvl": "info"}\nTraceback (most recent call last):\nBoom\n')
    report = build_end(tmp_path, 4, 137, canceled=False)
    assert report == {
        "result": "fail", "error_type": "Bug", "error_msg": "lava-run ended without a result (exit code 137)",
        "errors": "Traceback (most recent call last):\nBoom", "description": "", "log_lines": 4,
    }
    assert build_end(tmp_path, 0, -9, canceled=True)["error_type"] == "Canceled"
    (tmp_path / "output" / "result.yaml").write_text("result: [")
    assert "not valid YAML" in build_end(tmp_path, 0, None, canceled=False)["error_msg"]


def test_end_report_from_result_yaml(tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "result.yaml").write_text(
        "definition: lava\ncase: job\nresult: fail\nerror_type: Infrastructure\nerror_msg: no power\n"
    )
    (tmp_path / "output" / "description.yaml").write_text("pipeline: []\n")
    report = build_end(tmp_path, 12, 1, canceled=False)
    assert (report["result"], report["error_type"], report["error_msg"]) == ("fail", "Infrastructure", "no power")
    assert report["description"] == "pipeline: []\n" and report["errors"] == ""


def test_stderr_tail_is_bounded(tmp_path):
    (tmp_path / "stderr").write_text("x" * 100 + "\n" + "- {}\n" * 50000 + "last words\n")
    assert stderr_tail(tmp_path / "stderr") == "last words"


# /proc
def test_job_process_identity(tmp_path):
    output = str(tmp_path / "output")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "--output-dir", output])
    try:
        ticks = procfs.start_ticks(child.pid)
        assert ticks is not None
        assert procfs.is_job_process(child.pid, ticks, output)
        assert not procfs.is_job_process(child.pid, ticks + 1, output)  # a reused pid
        assert not procfs.is_job_process(child.pid, ticks, str(tmp_path / "other"))
        assert procfs.find_job_processes(output) == [child.pid]
    finally:
        child.kill()
        child.wait()
    assert procfs.start_ticks(child.pid) is None
    assert group_exists(os.getpgid(0))


# start-up scan
def _spawning_job(root, job_id):
    import json

    directory = root / "jobs" / str(job_id)
    (directory / "output").mkdir(parents=True)
    (directory / "state.json").write_text(json.dumps({"job_id": job_id, "status": "spawning"}))
    return directory


def test_a_job_that_never_spawned_is_dropped(tmp_path):
    from lava_dispatcher.worker.jobs import JobStore

    directory = _spawning_job(tmp_path, 3)
    store = JobStore(tmp_path, "lava-run", 30)
    store.load()
    assert store.jobs == {} and not directory.exists()  # the master sends start again


def test_a_job_spawned_just_before_a_crash_is_adopted(tmp_path):
    from lava_dispatcher.worker.jobs import JobStore

    directory = _spawning_job(tmp_path, 4)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "lava-run",
                              "--output-dir", str(directory / "output")], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while not procfs.find_job_processes(str(directory / "output")) and time.monotonic() < deadline:
            time.sleep(0.01)  # a loaded machine may not show the new command line at once
        store = JobStore(tmp_path, "lava-run", 30)
        store.load()
        job = store.jobs[4]
        assert (job.state.status, job.state.pid, job.state.pgid) == ("running", child.pid, child.pid)
        assert store.summary() == [{"id": 4, "state": "running"}]
        assert store.poll() == []
    finally:
        child.kill()
        child.wait()
    assert [job.job_id for job in store.poll()] == [4]
    assert store.summary() == [{"id": 4, "state": "finished"}]


def test_an_unreadable_state_is_left_alone_and_never_restarted(tmp_path):
    from lava_dispatcher.worker.jobs import JobStore

    directory = tmp_path / "jobs" / "5"
    directory.mkdir(parents=True)
    (directory / "state.json").write_text("{not json")
    store = JobStore(tmp_path, "lava-run", 30)
    store.load()
    assert store.jobs == {} and directory.exists()
    message = {"job_id": 5, "definition": "", "device": "", "dispatcher": "", "env": "", "env_dut": ""}
    with pytest.raises(SpawnError, match="unreadable state.json"):
        store.start(message)
    assert (directory / "state.json").read_text() == "{not json"


def test_a_log_the_master_could_not_store_is_reported_and_kept(tmp_path, caplog):
    worker = Worker(link=None, store=JobStore(tmp_path, "lava-run", 30.0))
    worker.handle({"type": "logs-ok", "job_id": 7, "count": 5, "error": "the server cannot store this job's log"})
    assert "job 7: the server did not store the log: the server cannot store this job's log" in caplog.text


def test_a_quiet_running_job_is_looked_at_less_often_until_its_log_grows(tmp_path):
    class Link:  # connected; the master's heartbeat is far off
        ready, heartbeat = True, 10.0

        def wait_time(self, now):
            return 10.0

    store = JobStore(tmp_path, "lava-run", 30.0)
    job = WorkerJob(tmp_path / "1", WorkerJobState(job_id=1, status=RUNNING))
    (tmp_path / "1" / "output").mkdir(parents=True)
    store.jobs[1] = job
    worker = Worker(link=Link(), store=store)
    quiet = [worker._timeout(0.0) for _ in range(6)]
    assert quiet == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5] and quiet[-1] == QUIET_LOG_POLL_SECONDS
    write_lines(job.tail.path, 0, 3)
    assert worker._timeout(0.0) == LOG_POLL_SECONDS  # lines to send: their batch is due soon
    batch = job.tail.next_batch(flush=True)
    assert batch is not None and job.tail.acknowledge(batch.stop)
    assert worker._timeout(0.0) == LOG_POLL_SECONDS  # it logged: looked at often again, then less
    assert worker._timeout(0.0) == 2 * LOG_POLL_SECONDS


def test_a_finished_job_does_not_spin_the_loop_while_the_master_is_away(tmp_path):
    class Link:  # down: the next connection attempt is 8 s away
        ready, heartbeat = False, 10.0

        def wait_time(self, now):
            return 8.0

    store = JobStore(tmp_path, "lava-run", 30.0)
    store.jobs[1] = WorkerJob(tmp_path / "1", WorkerJobState(job_id=1, status=FINISHED))  # its end is due now
    assert Worker(link=Link(), store=store)._timeout(100.0) == IDLE_POLL_SECONDS


# what a killed lava-run left on docker


@pytest.mark.parametrize(("definition", "expected"), [
    ({"actions": [{"test": {"services": []}}]}, True),
    ({"actions": [{"deploy": {"to": "docker"}}, {"boot": {"method": "docker"}}]}, True),
    ({"actions": [{"test": {"docker": {"image": "x"}, "definitions": []}}]}, True),
    ({"actions": [{"deploy": {"to": "tftp"}}, {"test": {"definitions": []}}]}, False),
    ({"actions": ["test", {"test": None}, {"deploy": ["docker"]}]}, False),  # not a job lava-run ran: nothing
    ({"actions": {"test": {"services": []}}}, False),
    ([], False),
    (None, False),
])
def test_which_jobs_may_have_left_something_on_docker(definition, expected):
    assert uses_docker(definition) is expected
