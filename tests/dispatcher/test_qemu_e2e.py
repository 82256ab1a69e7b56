"""End to end with real QEMU boards: boot to a login, run tests, report exactly what the board printed."""

import subprocess

import pytest
import yaml
from testimages import images, require_qemu

from .helpers import HERE, job_result, results, run_lava
from .qemu_jobs import inline, qemu_job

pytestmark = pytest.mark.qemu

DEVICES = {"x86_64": HERE / "devices" / "qemu-x86_64.yaml", "arm64": HERE / "devices" / "qemu-arm64.yaml"}
STEPS = [
    "lava-test-case uname --shell uname -a",
    "lava-test-case broken --shell false",
    "lava-test-case skipped --result skip",
    "lava-test-case speed --result pass --measurement 12.5 --units MB/s",
]


def _no_qemu_left(marker: str) -> bool:
    return subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode != 0


def _git_repo(tmp_path):
    repo = tmp_path / "tests-repo"
    repo.mkdir()
    (repo / "check.yaml").write_text(yaml.safe_dump({
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "check"},
        "params": {"WORD": "hello"},
        "run": {"steps": ["lava-test-case echo-$WORD --shell echo $WORD"]},
    }))
    for cmd in (["init", "-q", "-b", "main"], ["add", "."],
                ["-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "tests"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True)
    return repo


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_boot_login_and_tests(tmp_path, arch):
    require_qemu(arch)
    imgs = images().arch(arch)
    repo = _git_repo(tmp_path)
    definitions = [
        inline("smoke", STEPS),
        {"from": "git", "repository": str(repo), "path": "check.yaml", "name": "gitdef",
         "parameters": {"WORD": "world"}},
    ]
    proc, records, out = run_lava(tmp_path, qemu_job(imgs, definitions), DEVICES[arch])
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r for r in results(records)}
    assert found[("0_smoke", "uname")]["result"] == "pass"
    assert found[("0_smoke", "broken")]["result"] == "fail"
    assert found[("0_smoke", "skipped")]["result"] == "skip"
    speed = found[("0_smoke", "speed")]
    assert speed["measurement"] == 12.5 and speed["units"] == "MB/s"
    assert found[("1_gitdef", "echo-world")]["result"] == "pass"
    assert found[("lava", "0_smoke")]["result"] == "pass"
    assert found[("lava", "1_gitdef")]["commit_id"]
    assert "starttc" in found[("0_smoke", "uname")]
    assert any(r["lvl"] == "input" and r["msg"] == USERNAME for r in records)
    assert job_result(records)["result"] == "pass"
    assert _no_qemu_left(str(tmp_path))


USERNAME = "root"


def test_failing_test_raise_makes_the_job_fail(tmp_path):
    require_qemu("arm64")
    imgs = images().arm64
    job = qemu_job(imgs, [inline("dies", ["lava-test-case ok --shell true", "lava-test-raise disk-exploded"])])
    proc, records, _ = run_lava(tmp_path, job, DEVICES["arm64"])
    assert proc.returncode == 1
    result = job_result(records)
    assert result["error_type"] == "Test" and "disk-exploded" in result["error_msg"]
    assert ("0_dies", "ok") in {(r["definition"], r["case"]) for r in results(records)}
    assert _no_qemu_left(str(tmp_path))


def test_board_that_never_prompts(tmp_path):
    require_qemu("arm64")
    job = qemu_job(images().arm64, login=False, prompts=["this-prompt-never-comes# "])
    job["timeouts"]["connection"] = {"seconds": 20}
    proc, records, _ = run_lava(tmp_path, job, DEVICES["arm64"])
    assert proc.returncode == 1
    result = job_result(records)
    assert result["error_type"] == "LAVATimeout" and "timed out" in result["error_msg"]
    assert _no_qemu_left(str(tmp_path))


def test_kernel_panic_is_reported(tmp_path):
    require_qemu("arm64")
    job = qemu_job(images().arm64, login=False, append="rdinit=/nonexistent")
    proc, records, _ = run_lava(tmp_path, job, DEVICES["arm64"])
    assert proc.returncode == 1
    result = job_result(records)
    assert result["error_type"] == "Job" and "kernel panic" in result["error_msg"]
    login = [r for r in results(records) if r["case"] == "login-action"][-1]
    assert login["result"] == "fail"
    assert _no_qemu_left(str(tmp_path))


def test_sigterm_during_boot_leaves_no_qemu(tmp_path):
    import json
    import os
    import signal
    import sys
    import time

    from .helpers import REPO, write_dispatcher_config

    require_qemu("x86_64")
    job_path = tmp_path / "job.yaml"
    job_path.write_text(yaml.safe_dump(qemu_job(images().x86_64)))
    cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "8", "--output-dir", str(tmp_path / "out"),
           "--device", str(DEVICES["x86_64"]), "--dispatcher", str(write_dispatcher_config(tmp_path)), str(job_path)]
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    while _no_qemu_left(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _no_qemu_left(str(tmp_path)), "QEMU never started"
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    stderr = proc.communicate(timeout=30)[1]
    assert proc.returncode == 1
    final = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")][-2:]
    job = [r["msg"] for r in final if r["lvl"] == "results"][-1]
    assert job["error_type"] == "Canceled"
    assert _no_qemu_left(str(tmp_path))
