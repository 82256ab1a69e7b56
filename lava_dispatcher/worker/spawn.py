"""Write a job's files and start its lava-run in a process group of its own.

Its own session means a cancel can signal lava-run and everything it started
(QEMU, telnet, ...) at once, and that a worker that dies does not take its
jobs down with it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from lava_common import file_modes
from lava_common.yaml_loader import YAMLLoadError, load_yaml

# start message field -> file written in the job directory
JOB_FILES = {
    "definition": "job.yaml",
    "device": "device.yaml",
    "dispatcher": "dispatcher.yaml",
    "env": "env.yaml",
    "env_dut": "env-dut.yaml",
}


class SpawnError(Exception):
    """lava-run could not be started; the message says why (sent to the master as `start-failed`)."""


def write_job_files(directory: Path, message: dict[str, Any]) -> None:
    for name in JOB_FILES:
        value = message.get(name)
        if value is not None and not isinstance(value, str):
            raise SpawnError(f"start: '{name}' must be YAML text, not {type(value).__name__}")
    try:
        file_modes.make_dirs(directory / "output")
        for name, file_name in JOB_FILES.items():
            file_modes.write_text(directory / file_name, message.get(name) or "")
    except OSError as exc:
        raise SpawnError(f"cannot write the job files in {directory}: {exc.strerror or exc}") from None


def build_env(env_text: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """lava-run's environment from env.yaml: ``purge`` (start empty), ``removes`` (names), ``overrides``."""
    environ = dict(os.environ if base is None else base)
    if not env_text.strip():
        return environ
    try:
        data = load_yaml(env_text)
    except YAMLLoadError as exc:
        raise SpawnError(f"env.yaml: {exc}") from None
    if data is None:
        return environ
    if not isinstance(data, dict):
        raise SpawnError("env.yaml: must be a mapping with 'purge', 'removes' and/or 'overrides'")
    if data.get("purge"):
        environ = {}
    removes = data.get("removes") or []
    if not isinstance(removes, list):
        raise SpawnError("env.yaml: 'removes' must be a list of variable names")
    for name in removes:
        environ.pop(str(name), None)
    overrides = data.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise SpawnError("env.yaml: 'overrides' must be a mapping of variable names to values")
    for name, value in overrides.items():
        environ[str(name)] = "" if value is None else str(value)
    return environ


def lava_run_command(
    lava_run: str, directory: Path, job_id: int, has_env_dut: bool, allowed_file_dirs: tuple[Path, ...] = ()
) -> list[str]:
    """lava-run's arguments; on a worker, jobs read local files only below ``allowed_file_dirs``."""
    command = [
        lava_run,
        "--job-id", str(job_id),
        "--output-dir", str(directory / "output"),
        "--device", str(directory / "device.yaml"),
        "--dispatcher", str(directory / "dispatcher.yaml"),
        "--allowed-file-dirs", os.pathsep.join(str(folder) for folder in allowed_file_dirs),
    ]  # fmt: skip
    if has_env_dut:
        command += ["--env-dut", str(directory / "env-dut.yaml")]
    return [*command, str(directory / "job.yaml")]


def spawn_lava_run(
    lava_run: str,
    directory: Path,
    job_id: int,
    env_text: str | None,
    env_dut_text: str | None,
    allowed_file_dirs: tuple[Path, ...] = (),
) -> subprocess.Popen[bytes]:
    environ = build_env(env_text or "")
    has_env_dut = bool((env_dut_text or "").strip())
    command = lava_run_command(lava_run, directory, job_id, has_env_dut, allowed_file_dirs)
    try:
        with file_modes.open_append(directory / "stdout") as stdout, \
                file_modes.open_append(directory / "stderr") as stderr:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                cwd=directory,
                env=environ,
                start_new_session=True,
                close_fds=True,
            )
    except OSError as exc:
        raise SpawnError(f"cannot run {lava_run}: {exc.strerror or exc}") from None
