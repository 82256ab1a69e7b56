"""The lava-* helpers and the runner under busybox sh on the host, parsed by SignalParser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lava_dispatcher.test_shell.definitions import fetch_definitions
from lava_dispatcher.test_shell.overlay import OverlaySpec, build_overlay
from lava_dispatcher.test_shell.signals import Result, RunnerExit, SignalParser

BUSYBOX = shutil.which("busybox")
pytestmark = pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed")

SMOKE = {
    "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke"},
    "params": {"GREETING": "hello world"},
    "run": {"steps": [
        "lava-test-case echo-ok --shell echo \"$GREETING\"",
        "lava-test-case false-fails --shell false",
        "lava-test-case compound --shell 'test -d / && test -d /tmp'",
        "lava-test-case skipped --result skip",
        "lava-test-set start perf",
        "lava-test-case speed --result pass --measurement 12.5 --units MB/s",
        "lava-test-set stop",
        "lava-test-reference ref --result fail --reference https://example.org/x",
        "lava-test-case 'has space' --result pass",
        "echo param=$GREETING secret=$TOKEN",
        "lava-test-event hello-event",
        "lava-background-process-start bg --cmd 'sleep 30'",
        "lava-background-process-stop bg",
    ]},
}


@pytest.fixture()
def busybox_shell(tmp_path: Path) -> Path:
    """A folder of busybox applets only, like the board: its 'sh' is the runner's $SHELL and every
    script's shebang, and it is the whole PATH, so no host tool (apt-get!) is ever reached."""
    bindir = tmp_path / "bb"
    bindir.mkdir()
    subprocess.run([BUSYBOX, "--install", "-s", str(bindir)], check=True)
    return bindir / "sh"


def run_stage(tmp_path: Path, sh: Path, definitions: list[dict], **spec_args) -> tuple[subprocess.CompletedProcess, object]:
    lava_dir = tmp_path / "board" / "lava-7"
    defs = fetch_definitions(definitions, tmp_path / "defs")
    built = build_overlay(tmp_path / "root", OverlaySpec(
        job_id="7", stages={0: defs}, results_dir=str(lava_dir), sh_cmd=str(sh), **spec_args,
    ))
    # the overlay root holds the tree at root/<results dir>: move it where that path points
    shutil.move(str(tmp_path / "root" / str(lava_dir).lstrip("/")), lava_dir)
    env = {"PATH": str(sh.parent), "SHELL": str(sh), "HOME": str(tmp_path)}
    cmd = f"{built.environment_command()} && {built.runner_command(0)}"
    proc = subprocess.run([str(sh), "-c", cmd], capture_output=True, text=True, env=env, timeout=60)
    return proc, built


def test_runner_and_helpers_under_busybox(tmp_path: Path, busybox_shell: Path) -> None:
    entry = {"from": "inline", "name": "smoke", "path": "inline/smoke.yaml", "repository": SMOKE,
             "parameters": {"GREETING": "hi there"}}
    proc, built = run_stage(tmp_path, busybox_shell, [entry], secrets={"TOKEN": "s3cret"})
    assert proc.returncode == 0, proc.stderr
    parser = SignalParser(built.runs[0], clock=lambda: 0.0)
    events = parser.feed(proc.stdout) + parser.flush()
    records = [e.record for e in events if isinstance(e, Result)]
    got = [(r["case"], r["result"], r.get("measurement"), r.get("units"), r.get("set")) for r in records]
    assert got == [
        ("echo-ok", "pass", None, None, None),
        ("false-fails", "fail", None, None, None),
        ("compound", "pass", None, None, None),
        ("skipped", "skip", None, None, None),
        ("speed", "pass", 12.5, "MB/s", "perf"),
        ("ref", "fail", None, None, None),
        ("has_space", "pass", None, None, None),
        ("bg", "pass", None, None, None),
        ("0_smoke", "pass", None, None, None),
    ]
    assert records[5]["reference"] == "https://example.org/x"
    assert records[-1]["uuid"] == "7_0.0"
    assert isinstance(events[-1], RunnerExit)
    assert "param=hi there secret=s3cret" in proc.stdout
    assert "hi there" in proc.stdout  # --shell output is shown
    # results also land on the board's disk, and the conf was renamed so a reboot does not rerun it
    lava_dir = Path(built.results_dir)
    result_dirs = list((lava_dir / "results").glob("0_smoke-*"))
    assert (result_dirs[0] / "results" / "speed" / "measurement").read_text().strip() == "12.5"
    assert (result_dirs[0] / "return_code").read_text().strip() == "0"
    assert not (lava_dir / "0" / "lava-test-runner.conf").exists()


def test_second_run_of_a_stage_does_nothing(tmp_path: Path, busybox_shell: Path) -> None:
    entry = {"from": "inline", "name": "once", "path": "once.yaml", "repository": {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "once"},
        "run": {"steps": ["lava-test-case c --result pass"]}}}
    proc, built = run_stage(tmp_path, busybox_shell, [entry])
    again = subprocess.run([str(busybox_shell), "-c", built.runner_command(0)], capture_output=True, text=True,
                           env={"PATH": str(busybox_shell.parent), "SHELL": str(busybox_shell)}, timeout=30)
    assert "<LAVA_TEST_RUNNER EXIT>" in again.stdout and "LAVA_SIGNAL" not in again.stdout


def test_failing_step_stops_the_run_and_install_failure_is_signalled(tmp_path: Path, busybox_shell: Path) -> None:
    failing = {"from": "inline", "name": "failing", "path": "f.yaml", "repository": {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "failing"},
        "run": {"steps": ["lava-test-case before --result pass", "false", "lava-test-case after --result pass"]}}}
    no_pm = {"from": "inline", "name": "needs-pkgs", "path": "n.yaml", "repository": {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "needs-pkgs"},
        "install": {"deps": ["curl"]},
        "run": {"steps": ["lava-test-case never --result pass"]}}}
    last = {"from": "inline", "name": "last", "path": "l.yaml", "repository": {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "last"},
        "run": {"steps": ["lava-test-case last --result pass"]}}}
    proc, built = run_stage(tmp_path, busybox_shell, [failing, no_pm, last])
    out = proc.stdout
    assert "TEST_CASE_ID=before" in out and "TEST_CASE_ID=after" not in out
    assert "<LAVA_SIGNAL_ENDRUN 0_failing" not in out
    # PATH holds busybox alone: lava-install-packages finds no package manager
    assert "<LAVA_TEST_RUNNER INSTALL_FAIL>" in out
    assert "TEST_CASE_ID=never" not in out
    assert "TEST_CASE_ID=last RESULT=pass" in out
    assert out.rstrip().endswith("<LAVA_TEST_RUNNER EXIT>")


def test_install_packages_without_package_manager(tmp_path: Path, busybox_shell: Path) -> None:
    from lava_dispatcher.test_shell.overlay import scripts_dir

    bindir = busybox_shell.parent
    proc = subprocess.run([str(busybox_shell), str(scripts_dir() / "lava-install-packages"), "curl"],
                          capture_output=True, text=True, env={"PATH": str(bindir)}, timeout=30)
    assert proc.returncode == 1
    assert "no package manager on this board" in proc.stderr and "curl" in proc.stderr


def test_kmsg_mode_and_character_delay_are_exported(tmp_path: Path, busybox_shell: Path) -> None:
    entry = {"from": "inline", "name": "k", "path": "k.yaml", "lava-signal": "kmsg", "repository": {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "k"},
        "run": {"steps": ["echo mode=$LAVA_SIGNAL delay=$CHARACTER_DELAY"]}}}
    proc, _ = run_stage(tmp_path, busybox_shell, [entry], character_delay=0.01)
    # /dev/kmsg is not writable for us on the host in every setup: the helper falls back to stdout
    assert "mode=kmsg delay=0.01" in proc.stdout


def test_test_set_and_usage_errors(tmp_path: Path, busybox_shell: Path) -> None:
    from lava_dispatcher.test_shell.overlay import scripts_dir

    scripts = scripts_dir()
    env = {"PATH": str(busybox_shell.parent)}
    bad = subprocess.run([str(busybox_shell), str(scripts / "lava-test-case"), "x"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "usage: lava-test-case" in bad.stderr
    ok = subprocess.run([str(busybox_shell), str(scripts / "lava-test-set"), "start", "my set"], capture_output=True, text=True, env=env)
    assert ok.stdout.strip() == "<LAVA_SIGNAL_TESTSET START my_set>"
    ip = subprocess.run([str(busybox_shell), str(scripts / "lava-echo-ipv4"), "lo"], capture_output=True, text=True, env=env)
    assert ip.stdout.strip() in ("127.0.0.1", "")
    osb = subprocess.run([str(busybox_shell), str(scripts / "lava-os-build")], capture_output=True, text=True, env=env)
    assert osb.returncode == 0 and osb.stdout.strip()
