"""tuxrun (from PyPI) drives our lava-run with ``--runtime null`` and reads our results (clients.md §2)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testimages import images, require_qemu

from .helpers import REPO

pytestmark = pytest.mark.qemu

VENV_BIN = Path(sys.executable).parent


def _tuxrun(tmp_path, *args):
    tuxrun = shutil.which("tuxrun", path=str(VENV_BIN)) or shutil.which("tuxrun")
    if tuxrun is None:
        pytest.skip("tuxrun is not installed (pip install tuxrun)")
    lava_run = VENV_BIN / "lava-run"
    if not lava_run.exists():
        pytest.skip("our lava-run entry point is not installed in the venv")
    require_qemu("arm64")
    imgs = images().arm64
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO)}
    cmd = [tuxrun, "--runtime", "null", "--device", "qemu-arm64", "--kernel", str(imgs.kernel),
           "--rootfs", str(imgs.initramfs), "--results", str(tmp_path / "results.json"),
           "--log-file-yaml", str(tmp_path / "log.yaml"), *args]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    results = json.loads((tmp_path / "results.json").read_text()) if (tmp_path / "results.json").exists() else {}
    return proc, results


def test_boot_only(tmp_path):
    proc, results = _tuxrun(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert set(results) == {"lava"}
    assert results["lava"]["job"]["result"] == "pass"
    assert results["lava"]["login-action"]["result"] == "pass"
    assert (tmp_path / "output" / "result.yaml").exists()  # --output-dir relative to the cwd


def test_boot_only_with_short_timeouts(tmp_path):
    # tuxrun's job: timeouts.action (5 min) longer than the job's (4 min); the server would refuse it, lava-run runs it
    proc, results = _tuxrun(tmp_path, "--timeouts", "deploy=2", "boot=2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert results["lava"]["job"]["result"] == "pass"
    assert results["lava"]["login-action"]["result"] == "pass"


def test_inline_commands(tmp_path):
    proc, results = _tuxrun(tmp_path, "--", "uname", "-a")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert results["commands"]["command"]["result"] == "pass"
    assert results["lava"]["commands"]["result"] == "pass"


def test_failing_command_makes_tuxrun_fail(tmp_path):
    proc, results = _tuxrun(tmp_path, "--", "false")
    assert proc.returncode == 1
    assert results["commands"]["command"]["result"] == "fail"
    assert results["lava"]["job"]["result"] == "pass"  # the job ran fine; the test failed
