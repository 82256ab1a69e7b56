"""tuxrun (from PyPI, unmodified) drives our lava-run with ``--runtime null`` and reads our results (clients.md §2).

Every tuxrun QEMU device whose QEMU binary and kernel Debian provides here:
qemu-x86_64, qemu-i386, qemu-arm64 and qemu-armv7 (the others need a big-endian,
versatile, MIPS, PowerPC, RISC-V, s390, SuperH, SPARC or m68k kernel or QEMU that
Debian does not ship for this host: doc/tuxrun.md). Each boots our busybox
initramfs as tuxrun's ``--rootfs``; the i386 and armv7 images are optional
(share/test-images/build-extra.sh) and their tests skip when they cannot be built.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testimages import extra_images, images, require_qemu

from .helpers import REPO

pytestmark = pytest.mark.qemu

VENV_BIN = Path(sys.executable).parent
# tuxrun device -> our image architecture
DEVICES = {"qemu-x86_64": "x86_64", "qemu-i386": "i386", "qemu-arm64": "arm64", "qemu-armv7": "armv7"}
# tuxrun --timeouts (minutes per action) as a lab's CI would pass them; None: tuxrun's defaults
BOOT_TIMEOUTS = {
    "qemu-x86_64": ["deploy=3", "boot=3"],
    "qemu-i386": ["boot=4"],
    "qemu-arm64": None,
    "qemu-armv7": ["deploy=1", "boot=5"],
}


def _tuxrun_binary() -> str:
    tuxrun = shutil.which("tuxrun", path=str(VENV_BIN)) or shutil.which("tuxrun")
    if tuxrun is None:
        pytest.skip("tuxrun is not installed (pip install tuxrun)")
    if not (VENV_BIN / "lava-run").exists():
        pytest.skip("our lava-run entry point is not installed in the venv")
    return tuxrun


def _board(device: str) -> tuple[Path, Path]:
    arch = DEVICES[device]
    require_qemu(arch)
    if arch in ("x86_64", "arm64"):
        board = images().arch(arch)
        return board.kernel, board.initramfs
    return extra_images(arch)


def _tuxrun(tmp_path: Path, *args: str, device: str = "qemu-arm64") -> tuple[subprocess.CompletedProcess, dict]:
    tuxrun = _tuxrun_binary()
    kernel, initramfs = _board(device)
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO)}
    cmd = [tuxrun, "--runtime", "null", "--device", device, "--kernel", str(kernel),
           "--rootfs", str(initramfs), "--results", str(tmp_path / "results.json"),
           "--log-file-yaml", str(tmp_path / "log.yaml"), *args]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    results = json.loads((tmp_path / "results.json").read_text()) if (tmp_path / "results.json").exists() else {}
    return proc, results


def _explain(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize("device", DEVICES)
def test_boot_only(tmp_path, device):
    timeouts = BOOT_TIMEOUTS[device]
    proc, results = _tuxrun(tmp_path, *(["--timeouts", *timeouts] if timeouts else []), device=device)
    assert proc.returncode == 0, _explain(proc)
    assert set(results) == {"lava"}
    assert results["lava"]["job"]["result"] == "pass"
    assert results["lava"]["login-action"]["result"] == "pass"
    assert results["lava"]["execute-qemu"]["extra"]["job_arch"] in ("x86_64", "i386", "arm64", "arm")
    assert (tmp_path / "output" / "result.yaml").exists()  # --output-dir relative to the cwd


def test_boot_only_with_short_timeouts(tmp_path):
    # tuxrun's job: timeouts.action (5 min) longer than the job's (4 min); the server would refuse it, lava-run runs it
    proc, results = _tuxrun(tmp_path, "--timeouts", "deploy=2", "boot=2", device="qemu-x86_64")
    assert proc.returncode == 0, _explain(proc)
    assert results["lava"]["job"]["result"] == "pass"
    assert results["lava"]["login-action"]["result"] == "pass"


@pytest.mark.parametrize("device", DEVICES)
def test_inline_commands(tmp_path, device):
    proc, results = _tuxrun(tmp_path, "--timeouts", "boot=4", "commands=1", "--", "uname", "-m", device=device)
    assert proc.returncode == 0, _explain(proc)
    assert results["commands"]["command"]["result"] == "pass"
    assert results["lava"]["commands"]["result"] == "pass"
    machine = {"qemu-x86_64": "x86_64", "qemu-i386": "i686", "qemu-arm64": "aarch64", "qemu-armv7": "armv7l"}[device]
    assert any(line.endswith(f"] {machine}") for line in results["commands"]["command"]["log_excerpt"])


def test_failing_command_makes_tuxrun_fail(tmp_path):
    proc, results = _tuxrun(tmp_path, "--", "false")
    assert proc.returncode == 1
    assert results["commands"]["command"]["result"] == "fail"
    assert results["lava"]["job"]["result"] == "pass"  # the job ran fine; the test failed


SMOKE_DEFINITION = """\
metadata:
  format: Lava-Test Test Definition 1.0
  name: smoke
  description: each command of TESTS (comma separated) is one test case
params:
  TESTS: "pwd"
  SKIP_INSTALL: "false"
run:
  steps:
  - echo "$TESTS" | tr ',' '\\n' > /tmp/smoke-commands
  - while read -r cmd; do [ -n "$cmd" ] || continue; name=$(echo "$cmd" | tr -cs 'a-zA-Z0-9' '-' | sed 's/-$//'); if sh -c "$cmd" </dev/null; then lava-test-case "$name" --result pass; else lava-test-case "$name" --result fail; fi; done < /tmp/smoke-commands
"""


def test_smoke_suite_from_local_test_definitions(tmp_path):
    """tuxrun's `smoke` suite, its test-definitions tarball made here (tuxrun downloads Linaro's otherwise)."""
    if not shutil.which("zstd"):
        pytest.skip("zstd is not installed (tuxrun's test-definitions tarball is tar.zst)")
    tree = tmp_path / "test-definitions"
    (tree / "automated/linux/smoke").mkdir(parents=True)
    (tree / "automated/linux/smoke/smoke.yaml").write_text(SMOKE_DEFINITION)
    tarball = tmp_path / "test-definitions.tar.zst"
    subprocess.run(["tar", "--zstd", "-cf", str(tarball), "-C", str(tree), "automated"], check=True)
    proc, results = _tuxrun(
        tmp_path, "--tests", "smoke", "--test-definitions", tarball.as_uri(), "--timeouts", "boot=4", "smoke=2",
        "--parameters", "TESTS=uname -a,cat /etc/os-release,false", device="qemu-x86_64",
    )
    assert proc.returncode == 1, _explain(proc)  # one case failed
    assert {case: r["result"] for case, r in results["smoke"].items()} == {
        "uname-a": "pass", "cat-etc-os-release": "pass", "false": "fail",
    }
    assert results["lava"]["smoke"]["result"] == "pass" and results["lava"]["job"]["result"] == "pass"


@pytest.mark.parametrize("timeouts", [["boot=two"], ["boot"]])
def test_timeouts_tuxrun_refuses_never_reach_lava_run(tmp_path, timeouts):
    tuxrun = _tuxrun_binary()
    proc = subprocess.run(
        [tuxrun, "--runtime", "null", "--device", "qemu-x86_64", "--timeouts", *timeouts],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and "timeouts" in proc.stderr
    assert not (tmp_path / "output").exists()
