"""End to end without the dispatcher core: overlay -> initramfs -> QEMU -> runner -> SignalParser."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pexpect
import pytest
from testimages import SHELL_PROMPT, images, require_qemu

from lava_common.yaml_loader import dump_yaml
from lava_dispatcher.test_shell.definitions import fetch_definitions
from lava_dispatcher.test_shell.overlay import OverlaySpec, append_overlay_to_cpio, build_overlay
from lava_dispatcher.test_shell.signals import Result, RunnerExit, SignalError, SignalParser

pytestmark = pytest.mark.qemu

INLINE = {
    "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "inline-smoke"},
    "params": {"WHO": "nobody"},
    "run": {"steps": [
        "lava-test-case uname --shell uname -a",
        "lava-test-case must-fail --shell test -e /nonexistent",
        "lava-test-case skipped --result skip",
        "lava-test-set start perf",
        "lava-test-case bogomips --result pass --measurement 123.45 --units MIPS",
        "lava-test-set stop",
        "echo who=$WHO",
    ]},
}
KMSG = {
    "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "kmsg"},
    "run": {"steps": ["lava-test-case via-kmsg --result pass --measurement 1 --units s"]},
}
GIT_TESTDEF = {
    "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "from-git"},
    "run": {"steps": ["lava-test-case helper --shell ./helper.sh", "./report.sh"]},
    "parse": {"pattern": r"^check (?P<test_case_id>\S+) (?P<result>OK|KO)", "fixupdict": {"OK": "pass", "KO": "fail"}},
}


def git_repo(path: Path) -> None:
    path.mkdir()
    (path / "defs").mkdir()
    (path / "defs" / "git.yaml").write_text(dump_yaml(GIT_TESTDEF))
    (path / "helper.sh").write_text("#!/bin/sh\nexit 0\n")
    (path / "report.sh").write_text("#!/bin/sh\necho check alpha OK\necho check beta KO\n")
    (path / "helper.sh").chmod(0o755)
    (path / "report.sh").chmod(0o755)
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "defs"]):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)


@pytest.mark.parametrize("arch", ["arm64", "x86_64"])
def test_overlay_runs_in_qemu(tmp_path: Path, arch: str) -> None:
    require_qemu(arch)
    imgs = images().arch(arch)
    git_repo(tmp_path / "repo")
    defs = fetch_definitions([
        {"from": "inline", "name": "smoke", "path": "inline/smoke.yaml", "repository": INLINE,
         "parameters": {"WHO": "lava"}},
        {"from": "git", "name": "gitdef", "repository": str(tmp_path / "repo"), "path": "defs/git.yaml"},
        # signals through /dev/kmsg reach the console as kernel messages
        {"from": "inline", "name": "kmsg", "path": "k.yaml", "lava-signal": "kmsg", "repository": KMSG},
    ], tmp_path / "defs")
    built = build_overlay(tmp_path / "overlay", OverlaySpec(job_id="4242", stages={0: defs}))
    ramdisk = append_overlay_to_cpio(imgs.initramfs, tmp_path / "overlay", tmp_path / "ramdisk.cpio.gz")

    console = pexpect.spawn(imgs.qemu_command(initrd=ramdisk)[0], imgs.qemu_command(initrd=ramdisk)[1:],
                            encoding="utf-8", codec_errors="replace", timeout=120)
    transcript = []
    try:
        console.expect_exact(SHELL_PROMPT)
        console.sendline(f"{built.environment_command()} && {built.runner_command(0)}")
        start = time.monotonic()
        console.expect_exact("<LAVA_TEST_RUNNER EXIT>")
        transcript.append(console.before + console.after)
        elapsed = time.monotonic() - start
        console.expect_exact(SHELL_PROMPT)
        console.sendline("poweroff -f")
        console.expect(pexpect.EOF, timeout=30)
    finally:
        console.close(force=True)

    parser = SignalParser(built.runs[0])
    events = parser.feed("".join(transcript) + "\n")
    assert not [e for e in events if isinstance(e, SignalError)]
    records = [e.record for e in events if isinstance(e, Result)]
    got = [(r["definition"], r["case"], r["result"], r.get("measurement"), r.get("units"), r.get("set"))
           for r in records]
    assert got == [
        ("0_smoke", "uname", "pass", None, None, None),
        ("0_smoke", "must-fail", "fail", None, None, None),
        ("0_smoke", "skipped", "skip", None, None, None),
        ("0_smoke", "bogomips", "pass", 123.45, "MIPS", "perf"),
        ("lava", "0_smoke", "pass", None, None, None),
        ("1_gitdef", "helper", "pass", None, None, None),
        ("1_gitdef", "alpha", "pass", None, None, None),
        ("1_gitdef", "beta", "fail", None, None, None),
        ("lava", "1_gitdef", "pass", None, None, None),
        ("2_kmsg", "via-kmsg", "pass", 1.0, "s", None),
        ("lava", "2_kmsg", "pass", None, None, None),
    ]
    assert records[-3]["commit_id"] == defs[1].commit_id and records[-3]["uuid"] == "4242_0.1"
    assert "who=lava" in transcript[0]
    # printed by the kernel (timestamp before it), not by echo
    assert "] <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=via-kmsg" in transcript[0]
    assert isinstance(events[-1], RunnerExit)
    print(f"{arch}: runner on the board {elapsed:.2f} s for 3 definitions")
