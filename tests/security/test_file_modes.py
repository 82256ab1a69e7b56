"""Files made by the real lab processes are readable by the lab's user and group only.

The test process runs with umask 022, the usual default: the processes must
tighten it themselves.
"""

import contextlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from lava_dispatcher.actions.deploy.tftp import PublishTftpFiles
from lava_scheduler.jobs.submission import submit_job
from lava_scheduler.logs.store import job_output_dir
from tests.conftest import REPO_ROOT
from tests.server.live_lab import BIN, wait_for
from tests.server.test_e2e_jobs import finished, lab, minimal_job, start_all, user  # noqa: F401

FAKE_BOARD_WITH_SECRET = (
    "{% extends 'fake.jinja2' %}\n"
    "{% set connection_command = \"env PS1='fake-board# ' sh -i\" %}\n"
    "{% set power_off_command = 'pdu --password hunter2 off 3' %}\n"
)


@contextlib.contextmanager
def loose_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def open_to_others(root: Path) -> list[str]:
    """Whatever under ``root`` another user of the host could read, write or enter."""
    return [f"{path} {oct(mode(path))}" for path in (root, *root.rglob("*"))
            if not path.is_symlink() and mode(path) & 0o007]


def test_a_new_sqlite_lab_state_is_private(tmp_path):
    state = tmp_path / "state"
    env = {key: value for key, value in os.environ.items() if key != "LAVA_DATABASE_URL"}
    env.update(LAVA_STATE_DIR=str(state), LAVA_CONFIG_DIR=str(tmp_path / "etc"), PYTHONPATH=str(REPO_ROOT))
    with loose_umask():
        subprocess.run([str(BIN / "lava-server"), "manage", "migrate", "-v0"], env=env, check=True, cwd=tmp_path)
    assert mode(state) == 0o750
    assert mode(state / "lava.sqlite3") == 0o640
    assert mode(state / "secret_key") == 0o600
    assert open_to_others(state) == []


def test_static_files_stay_readable_by_the_web_server(tmp_path):
    # public assets, served by apache as another user: the one exception to umask 027
    env = dict(os.environ, LAVA_STATE_DIR=str(tmp_path / "state"), LAVA_CONFIG_DIR=str(tmp_path / "etc"),
               PYTHONPATH=str(REPO_ROOT))
    subprocess.run([str(BIN / "lava-server"), "manage", "collectstatic", "--noinput", "-v0"], env=env, check=True,
                   cwd=tmp_path)
    static = tmp_path / "state" / "static"
    modes = {mode(p) for p in (static, *static.rglob("*"))}
    assert modes == {0o755, 0o644}


def test_the_wsgi_application_tightens_the_umask():
    code = "import os; os.umask(0o022); import lava_server.wsgi; print(oct(os.umask(0)))"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout
    assert out.strip() == "0o27"


@pytest.mark.django_db(transaction=True)
def test_a_real_job_leaves_its_files_private_on_server_and_worker(lab, user, tmp_path):  # noqa: F811
    source = tmp_path / "fake-01.jinja2"
    source.write_text(FAKE_BOARD_WITH_SECRET)
    with loose_umask():
        subprocess.run([str(BIN / "lava-server"), "manage", "devices", "dict", "set", "fake-01", str(source)],
                       env=lab.env, check=True, cwd=REPO_ROOT)
        start_all(lab)
        # a job waiting for a prompt that never comes: the worker keeps its files while it runs
        (job,) = submit_job(minimal_job(prompt="never-shown-prompt", seconds=120, name="private files"), user)
        worker_job = lab.root / "worker" / "worker-e2e" / "jobs" / str(job.pk)
        wait_for(lambda: (worker_job / "state.json").exists() and (worker_job / "output" / "logs.yaml").exists(),
                 60, "the job running on the worker", lab)
        for name in ("job.yaml", "device.yaml", "stdout", "stderr", "state.json", "output/logs.yaml"):
            assert mode(worker_job / name) == 0o640, name
        assert mode(worker_job) == 0o750 and mode(worker_job / "output") == 0o750
        assert open_to_others(lab.root / "worker") == []
        call_command("jobs", "cancel", str(job.pk))
        job = wait_for(lambda: finished(job.pk), 60, "job finished", lab)

    dictionary = lab.config / "dispatcher-config" / "devices" / "fake-01.jinja2"
    assert "hunter2" in dictionary.read_text() and mode(dictionary) == 0o640
    server_files = job_output_dir(job)
    for name in ("output.yaml", "output.idx", "job.yaml", "device.yaml", "description.yaml"):
        assert mode(server_files / name) == 0o640, name
    assert open_to_others(lab.state) == []


def test_tftp_files_stay_readable_by_the_tftp_server(tmp_path):
    # the TFTP server runs as another user; the board fetches these files without authentication
    tftp_dir = tmp_path / "tftp" / "job-1"
    (tftp_dir / "kernel").mkdir(parents=True, mode=0o700)
    (tftp_dir / "kernel" / "Image").write_bytes(b"kernel")
    (tftp_dir / "kernel" / "Image").chmod(0o640)
    tftp_dir.chmod(0o700)
    PublishTftpFiles().run(SimpleNamespace(tftp_dir=tftp_dir))
    assert [mode(p) for p in (tftp_dir, tftp_dir / "kernel", tftp_dir / "kernel" / "Image")] == [0o755, 0o755, 0o644]
