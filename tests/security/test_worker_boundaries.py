"""The pieces that keep job text off the worker's shell and files, one by one (no lab)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lava_common.exceptions import ConfigurationError, JobError
from lava_common.safe_paths import inside, job_path_problems
from lava_dispatcher.actions.boot.qemu import qemu_command
from lava_dispatcher.actions.deploy.tmpfs import substitute_image_args
from lava_dispatcher.console import Console
from lava_dispatcher.device import parse_device
from lava_dispatcher.local_files import LocalFiles, local_path
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.processes import ProcessRegistry
from lava_dispatcher.test_shell.definitions import fetch_definition
from lava_dispatcher.worker.cli import allowed_folders
from lava_dispatcher.worker.spawn import lava_run_command

REPO = Path(__file__).resolve().parents[2]


def test_an_argument_list_console_never_meets_a_shell(tmp_path):
    canary = tmp_path / "canary"
    console = Console(["/bin/echo", f"$(touch {canary})", f"`touch {canary}`", ";", "|", "&&"],
                      JobLogger(stream=io.StringIO()), ProcessRegistry())
    try:
        console.expect(["&&"], timeout=10, what="echo's output")
    finally:
        console.close()
    assert not canary.exists()


def test_an_admin_connection_command_keeps_its_shell():
    console = Console("echo $((40 + 2))", JobLogger(stream=io.StringIO()), ProcessRegistry())
    try:
        assert console.expect(["42"], timeout=10) == 0
    finally:
        console.close()


def _qemu_device(options: list[str]):
    return parse_device({
        "hostname": "q", "device_type": "qemu",
        "actions": {"boot": {"methods": {"qemu": {"parameters": {"command": "qemu-system-aarch64",
                                                                 "options": options}}}}},
    })


def test_qemu_command_is_an_argument_list_with_image_paths_as_single_arguments(tmp_path):
    kernel = tmp_path / "dir with spaces;$(touch x)" / "Image"
    images = {"kernel": {"image_arg": "-kernel {kernel} -append 'console=ttyAMA0 root=/dev/ram0'"}}
    argv = qemu_command(_qemu_device(["-machine virt", "-m 256", "-enable-kvm"]),
                        substitute_image_args(images, {"kernel": kernel}))
    assert argv == ["qemu-system-aarch64", "-machine", "virt", "-m", "256", "-accel", "tcg",
                    "-kernel", str(kernel), "-append", "console=ttyAMA0 root=/dev/ram0"]


def test_an_absolute_path_is_anchored_in_the_tree_and_climbing_is_refused(tmp_path):
    assert inside(tmp_path, "/lib/modules", "overlay") == (tmp_path / "lib" / "modules").resolve()
    assert inside(tmp_path, "/", "overlay") == tmp_path.resolve()
    with pytest.raises(JobError, match="overlay: '../x' leads outside the job's scratch space"):
        inside(tmp_path, "../x", "overlay")


def test_a_symbolic_link_out_of_scratch_is_refused(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "kernel").symlink_to(tmp_path)
    with pytest.raises(JobError, match="kernel"):
        inside(scratch, "kernel/escaped", "kernel")


def test_job_path_problems_ignores_what_is_not_a_job():
    assert job_path_problems(None) == [] and job_path_problems({"actions": "x", "context": []}) == []


def test_local_files_resolve_before_checking(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "link").symlink_to("/etc/passwd")
    files = LocalFiles.from_option(str(allowed))
    assert files.check(str(allowed / "x" / ".." / "Image"), "k") == allowed.resolve() / "Image"
    for path in (str(allowed / "link"), f"{allowed}/../allowed-not", "/etc/passwd"):
        with pytest.raises(JobError, match="k: .* outside the folders this worker allows"):
            files.check(path, "k")
    assert LocalFiles.from_option(None).check("/etc/passwd", "k") == Path("/etc/passwd")
    assert LocalFiles.from_option("").allowed == ()


@pytest.mark.parametrize("text,git,expected", [
    ("file:///srv/x%20y", False, "/srv/x y"),
    ("https://example.org/x", False, None),
    ("/srv/repo", True, "/srv/repo"),
    ("../repo", True, "../repo"),
    ("file:///srv/repo", True, "/srv/repo"),
    ("git@example.org:team/repo.git", True, None),
    ("ssh://example.org/repo.git", True, None),
    ("/srv/repo", False, None),
])
def test_local_path_tells_local_sources_from_remote_ones(text, git, expected):
    assert local_path(text, git) == expected


def test_a_local_git_repository_outside_the_allowed_folders_is_not_cloned(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    entry = {"from": "git", "name": "t", "path": "t.yaml", "repository": str(repo)}
    with pytest.raises(JobError, match="outside the folders this worker allows"):
        fetch_definition(entry, 0, tmp_path / "defs", LocalFiles.from_option(str(tmp_path / "allowed")))
    assert not (tmp_path / "defs" / "0_t" / ".git").exists()


def test_git_options_cannot_hide_in_a_revision(tmp_path):
    entry = {"from": "git", "name": "t", "path": "t.yaml", "repository": "https://example.org/x.git",
             "revision": "--upload-pack=touch x"}
    with pytest.raises(JobError, match="'revision' must not start with '-'"):
        fetch_definition(entry, 0, tmp_path / "defs")


def test_the_worker_always_tells_lava_run_which_folders_jobs_may_read(tmp_path):
    command = lava_run_command("lava-run", tmp_path, 7, False, (Path("/srv/images"), Path("/srv/more")))
    assert command[command.index("--allowed-file-dirs") + 1] == f"/srv/images{os.pathsep}/srv/more"
    none = lava_run_command("lava-run", tmp_path, 7, False)
    assert none[none.index("--allowed-file-dirs") + 1] == ""


def test_the_worker_refuses_an_allowed_folder_that_is_not_there(tmp_path):
    assert allowed_folders([tmp_path]) == (tmp_path.resolve(),)
    with pytest.raises(ConfigurationError, match="--allow-file-dir .*: not a folder"):
        allowed_folders([tmp_path / "missing"])


def test_lava_worker_help_names_the_option():
    proc = subprocess.run([sys.executable, "-m", "lava_dispatcher.worker.cli", "--help"], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert "--allow-file-dir" in proc.stdout
