"""A lean subset of share/corpus-run.py: the reference's sample jobs, adapted in URLs and devices, run to Complete.

One job per kind of board and method: an arm64 kernel and initrd in tmpfs
(docs/qemu-kernel-standard-sid.yaml), the iPXE board with a gzip ramdisk, xz modules and git test
definitions (dispatcher/ipxe-ramdisk.yaml), a docker container with an interactive test
(dispatcher/docker-interactive.yaml), and a MultiNode group of two QEMU boards booting whole-disk
images through the BIOS (server/kvm-multinode.yaml); and, apart, one 32-bit ARM board
(docs/qemu-vexpress-a9.yaml). The whole survey is ``share/corpus-run.py``. Skips without the corpus.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from testimages import disk_images, images, require_qemu

from .helpers import CORPUS, REPO

sys.path.insert(0, str(REPO / "share"))
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import uefi_board  # noqa: E402 - share/virtual-lab is not a package
from corpus_run.images import ARCH_BUILDS, build_images  # noqa: E402 - share/ is not a package
from corpus_run.survey import run_all  # noqa: E402

pytestmark = pytest.mark.qemu

SUBSET = ["docs/qemu-kernel-standard-sid.yaml", "dispatcher/ipxe-ramdisk.yaml", "dispatcher/docker-interactive.yaml",
          "server/kvm-multinode.yaml"]


@pytest.mark.skipif(not (CORPUS / "jobs" / "verdicts.json").is_file(), reason="../shared/corpus is not there")
def test_sample_jobs_run_to_complete_on_virtual_boards(tmp_path):
    require_qemu("x86_64")
    require_qemu("arm64")
    images(), disk_images()
    reason = build_images("build-bootdisk.sh")  # GRUB for the whole-disk images (Debian's grub-pc-bin)
    if reason:
        pytest.skip(reason)
    # the jobs' own boot timeouts (60-120 s) assume KVM: TCG on a shared 2-core machine needs more
    outcomes = run_all(CORPUS, [f"jobs/{name}" for name in SUBSET], keep=tmp_path, parallel=2, timeout_factor=3)
    by_job = {outcome.label: outcome for outcome in outcomes}
    expected = {f"jobs/{name}" for name in SUBSET if "multinode" not in name}
    expected |= {"jobs/server/kvm-multinode.yaml[server]", "jobs/server/kvm-multinode.yaml[client]"}
    assert set(by_job) == expected, by_job
    skipped = {label: o.detail for label, o in by_job.items() if o.state == "left out"}
    if "jobs/dispatcher/docker-interactive.yaml" in skipped:  # no dockerd on this host: say so, test the rest
        print(f"docker job left out: {skipped.pop('jobs/dispatcher/docker-interactive.yaml')}")
    assert not skipped, skipped
    failed = {label: o.detail for label, o in by_job.items() if o.state not in ("Complete", "left out")}
    assert not failed, failed
    # test cases ran: the git definitions from our local repository, the MultiNode calls through the coordinator
    assert "pass" in by_job["jobs/dispatcher/ipxe-ramdisk.yaml"].detail
    for role in ("server", "client"):
        assert "pass" in by_job[f"jobs/server/kvm-multinode.yaml[{role}]"].detail
    # nothing of the boards is left running
    assert subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True).returncode != 0


@pytest.mark.skipif(not (CORPUS / "jobs" / "verdicts.json").is_file(), reason="../shared/corpus is not there")
def test_32_bit_arm_sample_job_runs_on_the_vexpress_a9_machine(tmp_path):
    """One boot: Debian's armmp kernel with the machine's own device tree, the overlay disk the job attaches
    (virtio-mmio), and the file its test step fetches from the lab's server over the board's lan9118."""
    require_qemu("armv7")
    for script in ARCH_BUILDS["armhf"]:  # cached: built once, when this test first runs
        if reason := build_images(script):
            pytest.skip(reason)
    job = "jobs/docs/qemu-vexpress-a9.yaml"
    # the job's boot timeout (5 min) already allows for TCG
    (outcome,) = run_all(CORPUS, [job], keep=tmp_path)
    assert (outcome.label, outcome.state) == (job, "Complete"), outcome.detail
    assert "1 pass" in outcome.detail and "virtio-bk-device -> virtio-blk-device" in outcome.detail
    log = next(tmp_path.glob("*/log.jsonl")).read_text()
    assert "qemu-system-arm -accel tcg -machine vexpress-a9 -cpu cortex-a9" in log
    assert "-dtb " in log and "vexpress-v2p-ca9.dtb" in log
    assert "'modules.tar.gz' saved" in log and "lib/modules/README.corpus-run" in log
    assert subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True).returncode != 0


@pytest.mark.skipif(not (CORPUS / "jobs" / "verdicts.json").is_file(), reason="../shared/corpus is not there")
def test_upsquare_nbd_sample_job_runs_on_the_uefi_server(tmp_path):
    """One boot of the UEFI GRUB path: OVMF network-boots GRUB EFI, which boots the kernel and ramdisk over TFTP
    with the root on the job's nbd-server; power through ipmitool and the server's BMC (share/virtual-lab)."""
    if reason := uefi_board.missing():
        pytest.skip(reason)
    job = "jobs/server/grub-nbd.yaml"
    (outcome,) = run_all(CORPUS, [job], keep=tmp_path, timeout_factor=2)
    assert (outcome.label, outcome.state) == (job, "Complete"), outcome.detail
    log = next(tmp_path.glob("*/log.jsonl")).read_text()
    assert "net_bootp" in log and "nbd.server=" in log and "ipmitool" in log
    # the server's QEMU and BMC, the job's nbd-server: nothing is left running
    assert subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True).returncode != 0
