"""The real lava-coordinator daemon (python -m lava_common.coordinator) with concurrent clients over TCP."""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from coordinator_daemon import REPO, Daemon

from lava_common.coordinator.client import CoordinatorRefused, CoordinatorTimeout
from lava_common.coordinator.wire import read_frame


@pytest.fixture
def daemon(tmp_path):
    daemon = Daemon(tmp_path)
    daemon.start()
    yield daemon
    if daemon.process.poll() is None:
        daemon.stop()


def member(group, name, role, size):
    return {"client_name": name, "group_name": group, "group_size": size, "role": role, "hostname": "w"}


def run_members(daemon, group, roles, script):
    """Run script(client, ident) for each member in its own thread; return {name: result or exception}."""
    results = {}

    def body(name, role):
        client, ident = daemon.client(), member(group, name, role, len(roles))
        try:
            client.call({"request": "group_data", **ident}, timeout=10, what="register")
            results[name] = script(client, ident)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each member got
            results[name] = exc

    threads = [threading.Thread(target=body, args=item) for item in roles.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_send_wait_wait_all_and_sync_between_three_members(daemon):
    def script(client, ident):
        got = {}
        if ident["role"] == "server":
            client.call({"request": "lava_send", "messageID": "ready", "message": {"ip": "10.0.0.1"}, **ident}, 5, "send")
            got["all"] = client.call(
                {"request": "lava_wait_all", "messageID": "done", "waitrole": "client", **ident}, 10, "wait-all")["message"]
        else:
            got["wait"] = client.call({"request": "lava_wait", "messageID": "ready", **ident}, 10, "wait")["message"]
            client.call({"request": "lava_send", "messageID": "done", "message": {"me": ident["client_name"]}, **ident},
                        5, "send")
        got["sync"] = client.call({"request": "lava_sync", "messageID": "end", **ident}, 10, "sync")["response"]
        return got

    results = run_members(daemon, "g1", {"1": "server", "2": "client", "3": "client"}, script)
    assert results["1"] == {"all": {"2": {"me": "2"}, "3": {"me": "3"}}, "sync": "ack"}
    assert results["2"] == results["3"] == {"wait": {"1": {"ip": "10.0.0.1"}}, "sync": "ack"}


def test_a_vanished_member_times_out_every_other_member_with_its_name(daemon):
    def script(client, ident):
        if ident["client_name"] == "3":
            return "vanished"  # registered, then never heard of again (lava-run killed)
        return client.call({"request": "lava_sync", "messageID": "go", **ident}, 1.5, "lava-sync go")

    results = run_members(daemon, "g2", {"1": "server", "2": "client", "3": "client"}, script)
    assert results["3"] == "vanished"
    for name in ("1", "2"):
        assert isinstance(results[name], CoordinatorTimeout)
        assert "lava-sync go: no answer within 1.5 s" in str(results[name])
        assert "from 3 (client)" in str(results[name])


def test_a_member_that_completes_early_makes_the_others_fail_at_once(daemon):
    def script(client, ident):
        if ident["client_name"] == "2":
            return client.call({"request": "complete", **ident}, 5, "complete")["response"]
        return client.call({"request": "lava_wait", "messageID": "x", **ident}, 20, "lava-wait x")

    started = time.monotonic()
    results = run_members(daemon, "g3", {"1": "a", "2": "b"}, script)
    assert results["2"] == "ack"
    assert isinstance(results["1"], CoordinatorRefused) and "2 (b) left the group" in str(results["1"])
    assert time.monotonic() - started < 10


def test_restart_between_groups_loses_nothing_and_clients_ride_it_out(daemon):
    results = run_members(daemon, "g4", {"1": "a", "2": "b"},
                          lambda c, i: c.call({"request": "lava_sync", "messageID": "s", **i}, 5, "sync")["response"])
    assert results == {"1": "ack", "2": "ack"}
    daemon.stop()
    threading.Timer(0.5, daemon.start).start()  # clients already polling see refused connections first
    results = run_members(daemon, "g5", {"1": "a", "2": "b"},
                          lambda c, i: c.call({"request": "lava_sync", "messageID": "s", **i}, 15, "sync")["response"])
    assert results == {"1": "ack", "2": "ack"}
    assert "group g5: 1 registered" in daemon.log.read_text()


def test_garbage_gets_a_nack_and_the_daemon_goes_on(daemon):
    with socket.create_connection(("127.0.0.1", daemon.port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        reply = read_frame(sock)
    assert reply["response"] == "nack" and "hex digits" in reply["error"]
    assert daemon.client().request({"request": "dance"})["response"] == "nack"
    assert daemon.process.poll() is None


def test_a_message_too_long_for_the_wire_fails_at_once(daemon):
    started = time.monotonic()
    with pytest.raises(CoordinatorRefused, match="longer than the limit"):
        daemon.client().call({"request": "lava_send", "message": {"k": "v" * 70000}}, 30, "lava-send big")
    assert time.monotonic() - started < 5


def test_bad_config_is_refused_with_its_path(tmp_path):
    config = tmp_path / "c.conf"
    config.write_text('{"port": "x"}')
    result = subprocess.run([sys.executable, "-m", "lava_common.coordinator", "--config", str(config), "--logfile", "-"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2
    assert f"{config}: 'port' has the wrong type" in result.stderr
