"""The lab's fastboot-phone-01: the virtual phone behind ser2net and pdudaemon runs the lab's sample job.

The device is rendered from the catalogue's own dictionary for the board; the
job is ``share/lab/jobs/fastboot-phone.yaml`` with the lab's image folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_config

REPO = Path(__file__).resolve().parents[2]
VIRTUAL_LAB = REPO / "share" / "virtual-lab"
sys.path.insert(0, str(VIRTUAL_LAB))
sys.path.insert(0, str(REPO / "share" / "lab"))
sys.path.insert(0, str(REPO / "tests"))
import catalog  # noqa: E402
from processes import processes_naming  # noqa: E402
from testimages import android_images, images_dir, require_qemu  # noqa: E402

from tests.dispatcher.helpers import job_result, results, run_lava  # noqa: E402


def _free_port(offset: int = 0) -> int:
    """A free port whose port + offset is free too (the phone's fastboot port follows its telnet port)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + offset < 65536:
            try:
                with socket.socket() as other:
                    other.bind(("127.0.0.1", port + offset))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


@pytest.mark.qemu
def test_the_lab_phone_passes_the_sample_job_through_ser2net_and_the_pdu(tmp_path, monkeypatch):
    for tool in ("ser2net", "socat", "fastboot"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (share/ci/setup-host.sh)")
    require_qemu("arm64")
    android_images("arm64")
    install = subprocess.run(["sh", str(VIRTUAL_LAB / "install-pdudaemon.sh")], capture_output=True, text=True)
    if install.returncode != 0:
        pytest.skip(f"pdudaemon cannot be installed here: {install.stderr[-300:]}")
    board = next(b for b in catalog.BOARDS if b.hostname == "fastboot-phone-01")
    telnet, pdu, control = _free_port(catalog.FASTBOOT_PORT_OFFSET), _free_port(), _free_port()
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump({
        "state_dir": "state", "pdu": {"port": pdu}, "ser2net": {"control_port": control},
        "boards": [{"name": board.hostname, "kind": board.kind, "outlet": 1, "telnet_port": telnet,
                    "tftp_root": "tftp", **board.kind_options}],
    }))
    wiring = catalog.Wiring(telnet, 1, f"127.0.0.1:{pdu}")
    rendered = render_device_config(board.hostname, board.dictionary(wiring), {},
                                    device_types_paths=[REPO / "device-types"])
    device = tmp_path / "device.yaml"
    device.write_text(yaml.safe_dump(rendered))
    job = tmp_path / "job.yaml"
    job.write_text((REPO / "share" / "lab" / "jobs" / "fastboot-phone.yaml").read_text()
                   .replace("/srv/lava/test-images", str(images_dir())))
    command = [sys.executable, str(VIRTUAL_LAB / "virtual_lab.py")]
    # the dictionary's power commands call pduclient, installed beside this Python as on a worker
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    assert subprocess.run([*command, "start", str(lab)], timeout=90).returncode == 0
    try:
        proc, records, _ = run_lava(tmp_path, job, device, timeout=600)
    finally:
        subprocess.run([*command, "stop", str(lab)], timeout=90)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_phone", "kernel")] == "pass"
    assert found[("0_phone", "board-id")] == "pass"
    assert job_result(records)["result"] == "pass"
    assert (tmp_path / "state" / "phones" / board.hostname / "partitions" / "system").exists()
    assert processes_naming(str(tmp_path)) == {}
