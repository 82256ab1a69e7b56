"""The lab's supervisor with real short-lived processes: restarts, growing pauses, reports."""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "share" / "virtual-lab"))
sys.path.insert(0, str(REPO_ROOT / "share" / "lab"))
from processes import ChildProcesses  # noqa: E402
from supervise import Supervisor, describe_exit  # noqa: E402


def test_a_daemon_that_keeps_dying_is_restarted_with_growing_pauses(tmp_path):
    children = ChildProcesses(tmp_path / "logs")
    children.start("flaky", ["sh", "-c", "echo started; exit 3"])
    children.start("steady", ["sleep", "30"])
    reports: list[tuple[str, str, float]] = []
    supervisor = Supervisor(children, lambda daemon, message: reports.append((daemon, message, time.monotonic())))
    try:
        deadline = time.monotonic() + 10
        while supervisor.restarts.get("flaky", 0) < 2 and time.monotonic() < deadline:
            supervisor.poll()
            time.sleep(0.05)
    finally:
        children.stop_all()
    messages = [m for d, m, _ in reports if d == "flaky"]
    assert messages[0].startswith("flaky exited with status 3 after ") and "restarting it in 1 s" in messages[0]
    assert messages[1].startswith("flaky restarted (pid ") and messages[1].endswith("restart 1)")
    assert "restarting it in 2 s" in messages[2]  # it died again at once: the pause doubled
    assert supervisor.restarts == {"flaky": 2}  # the steady one was left alone
    waited = [t for d, m, t in reports if d == "flaky"]
    assert waited[1] - waited[0] >= 1.0 and waited[3] - waited[2] >= 2.0
    assert (tmp_path / "logs" / "flaky.log").read_text().count("started") == 3


def test_exits_are_described_as_a_person_would_say_them():
    assert describe_exit(0) == "exited with status 0"
    assert describe_exit(-9) == "killed by SIGKILL"
