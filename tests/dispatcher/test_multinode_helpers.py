"""The MultiNode helpers under busybox sh, served by the lava-multinode protocol and a real coordinator.

Each "board" is lava-test-runner in busybox sh on this host; a thread per board plays the
dispatcher's part (TestShellAction): it watches the output for MultiNode signals, asks the
coordinator through MultinodeProtocol and types the reply on the board's input.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from coordinator_daemon import INSTALLED_DEBIAN_COORDINATOR, Daemon, InstalledDebianDaemon

from lava_common.exceptions import MultinodeProtocolTimeoutError
from lava_dispatcher.protocols.multinode import MultinodeProtocol, client_from_config
from lava_dispatcher.protocols.multinode_job import MultinodeSettings, parse_signal
from lava_dispatcher.test_shell.definitions import fetch_definitions
from lava_dispatcher.test_shell.overlay import MultinodeIdentity, OverlaySpec, build_overlay
from lava_dispatcher.test_shell.signals import Result, SignalParser

BUSYBOX = shutil.which("busybox")
pytestmark = pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed")
ROLES = {"10": "server", "11": "client", "12": "client"}


@pytest.fixture(params=["ours", "debian"])
def daemon(request, tmp_path):
    if request.param == "debian" and not INSTALLED_DEBIAN_COORDINATOR.exists():
        pytest.skip(f"Debian's lava-coordinator is not installed ({INSTALLED_DEBIAN_COORDINATOR})")
    daemon = (Daemon if request.param == "ours" else InstalledDebianDaemon)(tmp_path)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture
def busybox_sh(tmp_path: Path) -> Path:
    bindir = tmp_path / "bb"
    bindir.mkdir()
    subprocess.run([BUSYBOX, "--install", "-s", str(bindir)], check=True)
    return bindir / "sh"


def definition(name: str, steps: list[str]) -> dict:
    return {"from": "inline", "name": name, "path": f"{name}.yaml", "repository": {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": name}, "run": {"steps": steps}}}


class Board:
    """One job of the group: its overlay, its busybox runner, its side of the protocol."""

    def __init__(self, tmp_path: Path, sh: Path, daemon: Daemon, job_id: str, steps: list[str], timeout: int = 20):
        self.job_id, self.sh = job_id, sh
        self.home = tmp_path / f"board-{job_id}"
        lava_dir = self.home / "lava"
        settings = MultinodeSettings.from_job({"protocols": {"lava-multinode": {
            "target_group": "g", "role": ROLES[job_id], "roles": ROLES, "group_size": len(ROLES),
            "timeout": {"seconds": timeout}}}})
        self.protocol = MultinodeProtocol(settings, job_id, client_from_config(
            daemon.config_for_clients(tmp_path / f"coordinator-{job_id}.conf")))
        defs = fetch_definitions([definition("mn", steps)], self.home / "defs")
        self.built = build_overlay(self.home / "root", OverlaySpec(
            job_id=job_id, stages={0: defs}, results_dir=str(lava_dir), sh_cmd=str(sh),
            multinode=MultinodeIdentity(job_id, settings.role, settings.roles)))
        shutil.move(str(self.home / "root" / str(lava_dir).lstrip("/")), lava_dir)
        self.output: list[str] = []
        self.error: Exception | None = None
        self.extra_env: dict[str, str] = {}

    def run(self) -> None:
        env = {"PATH": str(self.sh.parent), "SHELL": str(self.sh), "HOME": str(self.home),
               "LAVA_MULTI_NODE_CACHE": str(self.home / "cache.txt"), **self.extra_env}
        cmd = f"{self.built.environment_command()} && {self.built.runner_command(0)}"
        proc = subprocess.Popen([str(self.sh), "-c", cmd], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=env, bufsize=1)
        try:
            self.protocol.initialise()
            for line in proc.stdout:
                self.output.append(line)
                call = parse_signal(line)
                if call is not None:
                    proc.stdin.write(self.protocol.serve(call) + "\n")
                    proc.stdin.flush()
        except Exception as exc:  # noqa: BLE001 - the test reads it
            self.error = exc
            proc.kill()
        finally:
            self.protocol.finalise()
            proc.wait(10)

    def results(self) -> dict[str, str]:
        parser = SignalParser(self.built.runs[0], clock=lambda: 0.0)
        events = parser.feed("".join(self.output)) + parser.flush()
        return {e.record["case"]: e.record["result"] for e in events if isinstance(e, Result)}


def run_group(boards: list[Board]) -> None:
    threads = [threading.Thread(target=board.run) for board in boards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


SERVER = [
    "lava-test-case self --shell test \"$(lava-self)\" = 10",
    "lava-test-case role --shell test \"$(lava-role)\" = server",
    "lava-test-case roles --shell test \"$(lava-role list | tr '\\n' ,)\" = client,server,",
    "lava-test-case clients --shell test \"$(lava-group client | tr '\\n' ,)\" = 11,12,",
    "lava-test-case group --shell 'lava-group | grep -q \"^10\tserver$\"'",
    "lava-send ready ip=10.0.0.1 port=5201",
    "lava-wait-all done client",
    "lava-test-case got-rates --shell 'grep -q ^11:rate=11$ $LAVA_MULTI_NODE_CACHE && grep -q ^12:rate=12$ $LAVA_MULTI_NODE_CACHE'",
    "lava-sync end",
    "lava-test-case synced --result pass",
]
CLIENT = [
    "lava-wait ready",
    "lava-test-case got-ip --shell grep -q '^10:ip=10.0.0.1$' $LAVA_MULTI_NODE_CACHE",
    "lava-test-case got-port --shell grep -q '^10:port=5201$' $LAVA_MULTI_NODE_CACHE",
    "lava-send done rate=$(lava-self)",
    "lava-sync end",
    "lava-test-case synced --result pass",
]


def test_a_server_and_two_clients_exchange_messages(tmp_path, busybox_sh, daemon):
    boards = [Board(tmp_path, busybox_sh, daemon, "10", SERVER)] + [
        Board(tmp_path, busybox_sh, daemon, job, CLIENT) for job in ("11", "12")]
    run_group(boards)
    for board in boards:
        assert board.error is None, board.error
        results = board.results()
        assert results.pop("0_mn") == "pass", "".join(board.output)
        if isinstance(daemon, InstalledDebianDaemon) and board is boards[0]:
            # the reference's lava_wait_all with a role answers once the role's first member has sent:
            # whether the second client's rate is there yet is a race
            assert results.pop("got-rates") in ("pass", "fail")
        assert set(results.values()) == {"pass"}, (results, "".join(board.output))
    assert len(boards[0].results()) == 8 and len(boards[1].results()) == 4
    if not isinstance(daemon, InstalledDebianDaemon):
        assert "group g: finished, forgotten" in daemon.log.read_text()


def test_clients_waiting_longer_than_their_timeout_fail_with_a_multinode_timeout(tmp_path, busybox_sh, daemon):
    boards = [Board(tmp_path, busybox_sh, daemon, "10", ["sleep 8", "lava-send late x=1"])] + [
        Board(tmp_path, busybox_sh, daemon, job, ["lava-wait late"], timeout=2) for job in ("11", "12")]
    run_group(boards)
    assert boards[0].error is None and boards[0].results() == {"0_mn": "pass"}
    for board in boards[1:]:
        assert isinstance(board.error, MultinodeProtocolTimeoutError)
        assert "lava-wait late: no answer within 2 s (waiting for " in str(board.error)
        if not isinstance(daemon, InstalledDebianDaemon):  # the reference does not say who is missing
            assert "(waiting for message 'late' from 10 (server), 11 (client), 12 (client))" in str(board.error)


def test_lava_network_shares_the_boards_addresses(tmp_path, busybox_sh, daemon):
    steps = [
        "lava-network broadcast lo",
        "lava-network collect lo",
        "lava-test-case query-ip --shell test \"$(lava-network query 10 ipv4)\" = 127.0.0.1",
        "lava-test-case query-mask --shell test \"$(lava-network query 11 netmask)\" = 255.0.0.0",
        "lava-test-case hosts --shell 'test \"$(lava-network hosts | wc -l)\" -eq 3'",
    ]
    boards = [Board(tmp_path, busybox_sh, daemon, job, steps) for job in ROLES]
    for board in boards:  # the network cache, like the message cache, is per board here
        board.extra_env = {"LAVA_MULTI_NODE_NETWORK_CACHE": str(board.home / "network.txt")}
    run_group(boards)
    for board in boards:
        assert board.error is None, board.error
        assert set(board.results().values()) == {"pass"}, "".join(board.output)
        assert len(board.results()) == 4


def test_helpers_are_only_for_multinode_jobs_and_check_their_arguments(tmp_path, busybox_sh):
    defs = fetch_definitions([definition("x", ["true"])], tmp_path / "defs")
    single = build_overlay(tmp_path / "single", OverlaySpec(job_id="1", stages={0: defs}))
    assert not (Path(single.root) / "lava-1" / "bin" / "lava-send").exists()
    multi = build_overlay(tmp_path / "multi", OverlaySpec(
        job_id="1", stages={0: defs}, multinode=MultinodeIdentity("1", "a", {"1": "a"})))
    bin_dir = Path(multi.root) / "lava-1" / "bin"
    env = {"PATH": str(busybox_sh.parent)}
    for args, error in ((["lava-send", "bad id!"], "message id 'bad id!'"), (["lava-send", "x", "novalue"], "not key=value"),
                        (["lava-send", "x", "a=<b>"], "would end the signal early"),
                        (["lava-wait"], "usage: lava-wait ID"), (["lava-group", "a", "b"], "usage")):
        proc = subprocess.run([str(busybox_sh), str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True,
                              env=env, timeout=10)
        assert proc.returncode == 1 and error in proc.stderr, (args, proc.stderr)
    proc = subprocess.run([str(busybox_sh), str(bin_dir / "lava-group"), "nobody"], capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and proc.stdout == ""


def test_the_group_network_address_is_set_by_the_runner_before_the_tests(tmp_path, busybox_sh):
    defs = fetch_definitions([definition("x", ["true"])], tmp_path / "defs")
    built = build_overlay(tmp_path / "multi", OverlaySpec(job_id="1", stages={0: defs}, multinode=MultinodeIdentity(
        "1", "a", {"1": "a"}, network_address="10.100.7.1/24", network_mac="52:54:00:64:07:01")))
    script = Path(built.root) / "lava-1" / "bin" / "lava-multinode-network-up"
    assert "LAVA_MULTI_NODE_NETWORK_ADDRESS=10.100.7.1/24\nLAVA_MULTI_NODE_NETWORK_MAC=52:54:00:64:07:01\n" in \
        script.read_text()
    assert '"$BIN/lava-multinode-network-up"' in (Path(built.root) / "lava-1" / "bin" / "lava-test-runner").read_text()
    # no card with that MAC on this host: a clear message, not a silent success
    proc = subprocess.run([str(busybox_sh), str(script)], capture_output=True, text=True,
                          env={"PATH": str(busybox_sh.parent)}, timeout=10)
    assert proc.returncode == 1 and "no network card with MAC 52:54:00:64:07:01" in proc.stderr
    # without a group network it does nothing
    plain = build_overlay(tmp_path / "plain", OverlaySpec(job_id="1", stages={0: defs},
                                                          multinode=MultinodeIdentity("1", "a", {"1": "a"})))
    proc = subprocess.run([str(busybox_sh), str(Path(plain.root) / "lava-1" / "bin" / "lava-multinode-network-up")],
                          capture_output=True, text=True, env={"PATH": str(busybox_sh.parent)}, timeout=10)
    assert proc.returncode == 0 and proc.stdout == proc.stderr == ""
