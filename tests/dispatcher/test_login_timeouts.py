"""Whose time the wait for the kernel is: auto-login-action's, as in the reference, not login-action's.

kvm-command.yaml names no login-action timeout, so login-action has the 30 s default; a board whose
firmware and bootloader take longer than that (a BIOS boot through GRUB under TCG) must still log in.
"""

from __future__ import annotations

import time

import pytest

from lava_common.exceptions import LAVATimeoutError
from lava_dispatcher.action import Pipeline
from lava_dispatcher.actions.boot.login import AutoLoginAction
from lava_dispatcher.console import Console
from lava_dispatcher.processes import ProcessRegistry

from .test_download import _ctx

KERNEL = "echo 'Linux version 6.1.0 (test)'\n"
LOGIN = "printf 'debian login: '\nread -r user\nPS1='root@debian:~# ' exec sh -i\n"
PARAMETERS = {"prompts": ["root@debian:~#"], "auto_login": {"login_prompt": "login:", "username": "root"}}


def _log_in(tmp_path, board: str, login_seconds: float) -> None:
    """AutoLoginAction (60 s) on a board that runs ``board``; its login-action gets ``login_seconds``."""
    (tmp_path / "board.sh").write_text(board)
    ctx = _ctx(tmp_path)
    processes = ProcessRegistry()
    ctx.connection = Console(["sh", str(tmp_path / "board.sh")], ctx.logger, processes)
    try:
        pipeline = Pipeline()
        auto = pipeline.add_action(AutoLoginAction(), PARAMETERS)
        auto.timeout.duration = auto.connection_timeout.duration = 60
        auto.pipeline.actions[0].timeout.duration = login_seconds
        pipeline.run_actions(ctx)
    finally:
        processes.kill_all(grace=0.5)


def test_the_wait_for_the_kernel_is_not_login_actions_time(tmp_path):
    started = time.monotonic()
    _log_in(tmp_path, "sleep 3\n" + KERNEL + LOGIN, login_seconds=2)
    assert time.monotonic() - started >= 3


def test_login_action_times_out_once_the_kernel_started(tmp_path):
    started = time.monotonic()
    with pytest.raises(LAVATimeoutError):
        _log_in(tmp_path, KERNEL + "sleep 30\n", login_seconds=1)
    assert time.monotonic() - started < 10
