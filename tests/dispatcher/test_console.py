"""The pexpect console: line logging, slow serial lines (character delays), EOF and process cleanup."""

import os
import time

import pytest

from lava_common.exceptions import ConnectionClosedError, LAVATimeoutError
from lava_dispatcher.console import Console
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.processes import ProcessRegistry


class Sink(list):
    def write(self, line):
        self.append(line)

    def flush(self):
        pass


def _console(command):
    sink = Sink()
    registry = ProcessRegistry()
    return Console(command, JobLogger(stream=sink), registry), sink, registry


def test_character_delay_is_honoured():
    console, sink, _ = _console("cat")
    console.character_delay_ms = 20
    started = time.monotonic()
    console.sendline("slowly")
    assert time.monotonic() - started >= 0.14  # 7 characters, 20 ms each
    console.expect(["slowly"], 5)
    console.close()
    assert any('"input"' in line and "slowly" in line for line in sink)


def test_lines_are_logged_as_target_without_escapes():
    console, sink, _ = _console("printf 'one\\r\\n\\033[6ntwo\\n'; sleep 5")
    console.expect(["two"], 5)
    console.drain(0.1)
    console.close()
    targets = [line for line in sink if '"target"' in line]
    assert any('"msg": "one"' in t for t in targets) and any('"msg": "two"' in t for t in targets)


def test_eof_and_timeout_are_lava_errors():
    console, _, _ = _console("echo bye")
    with pytest.raises(ConnectionClosedError):
        console.expect(["never"], 5)
    console.close()
    console, _, _ = _console("sleep 5")
    with pytest.raises(LAVATimeoutError):
        console.expect(["never"], 0.2, what="a prompt")
    console.close()


def test_kill_all_removes_the_process_group():
    console, _, registry = _console("sh -c 'sleep 100 & sleep 100'")
    pid = console.pid
    time.sleep(0.2)
    registry.kill_all(grace=0.5)
    assert _live_members(pid) == []


def _live_members(pgid):
    """Processes of the group that still run (zombies waiting for PID 1 to reap them do not count)."""
    live = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(entry))
    return live


@pytest.mark.parametrize("command,longest", [
    (["sh", "-i"], 0.1),  # an interactive shell ignores SIGTERM, not SIGHUP
    (["sleep", "60"], 0.1),
    (["sh", "-c", "trap '' TERM HUP; sleep 60"], 0.5 + 0.2),  # SIGKILL after the grace
], ids=["interactive-shell", "sleep", "ignores-term-and-hup"])
def test_stop_process_ends_the_console_without_a_fixed_delay(command, longest):
    console, _, registry = _console(command)
    pid = console.pid
    time.sleep(0.2)
    started = time.monotonic()
    console.stop_process()
    assert time.monotonic() - started < longest
    assert _live_members(pid) == [] and len(registry) == 0


def test_drain_returns_once_the_board_is_quiet():
    console, sink, _ = _console("printf 'last words\\n'; sleep 60")
    time.sleep(0.2)
    started = time.monotonic()
    console.drain()
    assert time.monotonic() - started < 0.1
    assert any("last words" in line for line in sink)
    console.stop_process()


def test_at_prompt_holds_from_a_prompt_match_until_something_is_sent():
    # what lets the test shell and the boot's shell check skip a round trip to a prompt just seen
    console, sink, _ = _console(["sh", "-c", "printf 'board$ '; read line; printf 'out\\nboard$ '; sleep 60"])
    console.prompts = ["board\\$ "]
    assert not console.at_prompt
    console.expect(console.prompts, 5)
    assert console.at_prompt
    console.sendline("cmd")
    assert not console.at_prompt
    console.expect(["out"], 5)
    assert not console.at_prompt  # a wait that ended on something else
    console.expect(console.prompts, 5)
    assert console.at_prompt
    started = time.monotonic()
    console.drain(quiet=0)  # at a prompt, finalize reads what has arrived without waiting for silence
    assert time.monotonic() - started < 0.05
    console.stop_process()


def test_stop_process_wakes_when_the_process_ends_not_by_polling(monkeypatch):
    console, _, registry = _console(["sleep", "60"])
    pid = console.pid

    real_sleep = time.sleep

    def no_polling(seconds):
        if seconds:  # ptyprocess's close sleeps 0 s (its delayafterclose, which stop_process sets to 0)
            raise AssertionError("stop_process polled: the pidfd should have woken it")
        real_sleep(0)

    monkeypatch.setattr("lava_dispatcher.console.time.sleep", no_polling)
    console.stop_process()
    assert _live_members(pid) == [] and len(registry) == 0


def test_stop_process_polls_where_there_are_no_pidfds(monkeypatch):
    def no_pidfds(pid):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr("lava_dispatcher.console.os.pidfd_open", no_pidfds)
    for command in (["sleep", "60"], ["sh", "-c", "trap '' TERM HUP; sleep 60"]):
        console, _, registry = _console(command)
        pid = console.pid
        time.sleep(0.1)
        console.stop_process()
        assert _live_members(pid) == [] and len(registry) == 0
