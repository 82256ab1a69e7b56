"""Plain text (no CURVE) only on a unix socket that the lab's own users alone can reach.

A tcp:// address on loopback is reached by every local process and by a QEMU guest with user
networking, and without keys whoever reaches the master may speak for every worker.
"""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lava_scheduler.lab.models import Worker
from lava_scheduler.master.plaintext import PlaintextRefused, check_plaintext_bind
from tests.server.live_lab import BIN, LiveLab, free_port, wait_for

NOBODY = 65534


@pytest.mark.parametrize("address,allow_tcp,expected", [
    ("tcp://10.0.2.2:5556", True, "not a loopback address"),
    ("tcp://*:5556", True, "not a loopback address"),
    ("tcp://127.0.0.1:5556", False, "QEMU guest with user networking"),
    ("ipc://@lava-master", False, "abstract socket has no file permissions"),
    ("inproc://master", False, "needs an ipc:// socket"),
])  # fmt: skip
def test_refused_plaintext_addresses(address, allow_tcp, expected):
    with pytest.raises(PlaintextRefused, match=expected):
        check_plaintext_bind(address, allow_tcp=allow_tcp)


def test_loopback_tcp_only_with_the_override():
    check_plaintext_bind("tcp://127.0.0.1:5556", allow_tcp=True)
    check_plaintext_bind("tcp://localhost:5556", allow_tcp=True)


def test_socket_directory_must_be_closed_to_others(tmp_path):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with pytest.raises(PlaintextRefused, match=r"mode 0755: others may enter it.*chmod o-rwx"):
        check_plaintext_bind(f"ipc://{folder}/master.sock")
    folder.chmod(0o750)  # the group is how workers get in
    check_plaintext_bind(f"ipc://{folder}/master.sock")
    check_plaintext_bind(f"ipc://{tmp_path}/new/master.sock")
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="a folder of another user needs root to make")
def test_socket_directory_of_another_user_is_refused(tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, NOBODY, -1)
    with pytest.raises(PlaintextRefused, match=f"belongs to uid {NOBODY}, not to this master's user"):
        check_plaintext_bind(f"ipc://{folder}/master.sock")


def run_master(lab: LiveLab, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "lava-server"), "manage", "lava-master", *args], env=lab.env,
                          capture_output=True, text=True, timeout=60)


def test_the_master_refuses_plaintext_where_others_reach_it(tmp_path):
    lab = LiveLab(tmp_path)
    try:
        proc = run_master(lab, "--plaintext", "--bind", f"tcp://127.0.0.1:{free_port()}")
        assert proc.returncode != 0 and "QEMU guest with user networking" in proc.stderr
        assert "Traceback" not in proc.stderr
        lab.socket_dir.chmod(0o755)
        proc = run_master(lab, "--plaintext", "--bind", lab.master_ipc)
        assert proc.returncode != 0 and "others may enter it" in proc.stderr and "Traceback" not in proc.stderr
    finally:
        lab.stop_all()


def connect_as_nobody(path: Path) -> subprocess.CompletedProcess:
    # the system's python: nobody may not enter the folder of the test's own interpreter
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    code = "import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])"
    return subprocess.run([python, "-c", code, str(path)], user=NOBODY, group=NOBODY, extra_groups=[], cwd="/",
                          capture_output=True, text=True, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_plaintext_master_on_a_closed_unix_socket(tmp_path, settings):
    lab = LiveLab(tmp_path)
    lab.configure_test_process(settings)
    Worker.objects.create(hostname="worker-ipc")
    lab.add_dispatcher_config("worker-ipc")
    socket_file = lab.socket_dir / "master.sock"
    try:
        lab.start_master()
        wait_for(socket_file.exists, 30, "the master's socket", lab)
        assert lab.socket_dir.stat().st_mode & 0o777 == 0o700
        lab.start_worker("worker-ipc")
        wait_for(lambda: Worker.objects.get(pk="worker-ipc").get_state_display() == "Online", 60, "worker online",
                 lab)
        # the folder keeps others out; the socket itself is open to whoever may enter the folder (checked once
        # a worker is in: the socket file appears at bind, a moment before the master opens it)
        assert socket_file.stat().st_mode & 0o777 == 0o666
        if os.geteuid() == 0:
            refused = connect_as_nobody(socket_file)
            assert refused.returncode != 0 and "PermissionError" in refused.stderr
            os.chown(lab.socket_dir, -1, NOBODY)  # a worker user in the folder's group gets in
            lab.socket_dir.chmod(0o750)
            group_member = connect_as_nobody(socket_file)
            assert group_member.returncode == 0, group_member.stderr
        with socket.socket(socket.AF_UNIX) as own:
            own.connect(str(socket_file))
    finally:
        lab.stop_all()
