"""A reference sample job that asks for ``netdevice: tap``, run on a tap network the run makes and removes.

docs/qemu-aarch64.yaml, adapted by share/corpus-run.py (our kernel and initramfs; the device
dictionary gets ``tap_interface``, as a lab's admin writes it): the tap, its host address and a
dnsmasq bound to it alone (share/virtual-lab/tap_network.py) exist for the job only. One boot
checks that the board's network is the tap (a DHCP lease from our dnsmasq, then a ping of the
host side's address from a test step of ours) and that the tap, dnsmasq and QEMU are gone after.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from testimages import images, require_qemu

from .helpers import CORPUS, REPO

sys.path.insert(0, str(REPO / "share"))
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import tap_network  # noqa: E402 - share/virtual-lab is not a package
from corpus_run.adapt import adapt  # noqa: E402 - nor is share/
from corpus_run.boards import TAP_BOARDS, stop_boards  # noqa: E402
from corpus_run.running import finish, job_timeout, lava_run  # noqa: E402

pytestmark = pytest.mark.qemu

JOB = CORPUS / "jobs" / "docs" / "qemu-aarch64.yaml"


def ping_test(host_ip: str) -> dict:
    """A test action of ours: the board pings the worker's side of the tap."""
    return {"test": {"timeout": {"minutes": 5}, "definitions": [{
        "from": "inline", "name": "tap", "path": "inline/tap.yaml",
        "repository": {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "tap"},
                       "run": {"steps": [f"lava-test-case ping-host --shell ping -c 1 -W 10 {host_ip}"]}}}]}}


def running(text: str) -> list[str]:
    """Command lines of the host's processes that contain ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args and "pytest" not in args:
            found.append(args)
    return found


@pytest.mark.skipif(not JOB.is_file(), reason="../shared/corpus is not there")
def test_a_tap_job_boots_on_a_tap_of_its_own_that_is_gone_afterwards(tmp_path: Path) -> None:
    if reason := tap_network.missing():
        pytest.skip(f"no tap network here: {reason}")
    require_qemu("arm64")
    images()
    work = tmp_path / "job"
    work.mkdir()
    try:
        # the job's 2-minute boot assumes KVM: TCG on a shared 2-core machine needs more
        job, device, _ = adapt(yaml.safe_load(JOB.read_text()), work, tmp_path, timeout_factor=3)
        tap = TAP_BOARDS[work].network
        job["actions"].append(ping_test(tap.host_ip))
        options = device["actions"]["boot"]["methods"]["qemu"]["parameters"]["options"]
        assert f"-net tap,ifname={tap.name},script=no,downscript=no" in " ".join(options)
        state, detail = finish(lava_run(work, job, device, "1"), work, job_timeout(job))
        log = (work / "log.jsonl").read_text()
        assert state == "Complete", detail
        assert detail == "1 test cases: 1 pass", detail
        assert f"init: eth0 {tap.board_ip}/24 router {tap.host_ip}" in log
        assert f"DHCPACK({tap.name}) {tap.board_ip}" in tap.log_file.read_text()
    finally:
        stop_boards(work)
    assert not Path("/sys/class/net", tap.name).exists()
    assert not running(tap.name), running(tap.name)  # dnsmasq and QEMU (-net tap,ifname=...)
    assert not running(str(work)), running(str(work))
    assert subprocess.run(["ip", "-4", "addr", "show", "to", tap.host_ip], capture_output=True, text=True).stdout == ""
