"""lava-worker over CURVE: the right keys talk, a wrong key gets nothing through."""

from __future__ import annotations

import pytest
import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from lava_common.keys import create_key_pair, read_key_pair

from .test_worker_fakes import FakeMaster, start_message, start_worker, stop


@pytest.fixture
def keys(tmp_path):
    made = {name: create_key_pair(tmp_path / "keys", name) for name in ("master", "worker-1", "intruder")}
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "worker-1.key").write_bytes(made["worker-1"][0].read_bytes())
    return made, allowed


@pytest.fixture
def curve_master(keys):
    made, allowed = keys
    context = zmq.Context()
    auth = ThreadAuthenticator(context)
    auth.start()
    auth.configure_curve(domain="*", location=str(allowed))
    public, secret = read_key_pair(made["master"][1])
    master = FakeMaster(context=context, secret=(public.encode(), secret.encode()))
    yield master
    master.close()
    auth.stop()
    context.term()


def test_curve_with_the_right_keys(tmp_path, keys, curve_master):
    made, _ = keys
    worker = start_worker(tmp_path, curve_master.url, "--master-cert", str(made["master"][0]),
                          "--worker-cert", str(made["worker-1"][1]))
    try:
        curve_master.wait_for("hello")
        curve_master.send("start", **start_message(1, {"runs_file": str(tmp_path / "runs"), "lines": 20}))
        end = curve_master.wait_for("end", job_id=1)
        assert end["result"] == "pass" and curve_master.stored[1][-1].endswith('"line 19"}')
    finally:
        stop(worker)


@pytest.mark.parametrize("wrong", ["worker-key", "master-key"])
def test_curve_with_a_wrong_key_gets_nothing_through(tmp_path, keys, curve_master, wrong):
    made, _ = keys
    worker_secret = made["intruder"][1] if wrong == "worker-key" else made["worker-1"][1]
    master_public = made["intruder"][0] if wrong == "master-key" else made["master"][0]
    worker = start_worker(tmp_path, curve_master.url, "--master-cert", str(master_public),
                          "--worker-cert", str(worker_secret))
    try:
        assert curve_master.recv(2.0) is None
        assert worker.poll() is None  # it keeps trying, it does not crash
        expected = "refused this worker's key" if wrong == "worker-key" else "handshake with the master failed"
        assert expected in (tmp_path / "worker.log").read_text()
    finally:
        stop(worker)
