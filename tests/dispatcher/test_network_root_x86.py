"""x86 roots over the network on the virtual iPXE board (SeaBIOS + iPXE, e1000): the x86 template's ``nfs``
and ``nbd`` command lists, against a real nfs-ganesha and the job's own nbd-server.

The board boots share/test-images/build-netroot-x86.sh's kernel and ramdisk over TFTP; the ramdisk loads
e1000, NFSv4 and nbd, mounts the root the command line names (``nfsroot=``, or ``nbd.server=`` and
``nbd.port=`` through nbd-client) and switches to it. The root says "netroot rootfs" in /etc/lava-rootfs.
"""

from __future__ import annotations

import lzma
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from testimages import PROMPT_REGEX, netroot_x86_images

from .helpers import CORPUS, REPO, job_result, results, run_lava
from .qemu_jobs import inline
from .test_ipxe import DISPATCHER, board_gone, inputs, ipxe_job, render_device, require_board
from .test_network_root import _free_port, _left, ganesha  # noqa: F401 - ganesha is a fixture

sys.path.insert(0, str(REPO / "share"))
from corpus_run import testdefs  # noqa: E402 - share/ is not a package; the module: pytest collects test*() names
from corpus_run.adapt import adapt_job  # noqa: E402

ROOT_CHECKS = [
    "lava-test-case rootfs --shell grep -q 'netroot rootfs' /etc/lava-rootfs",
    "lava-test-case root-mount --shell grep -q '^$ROOT_SOURCE / $ROOT_FS ' /proc/mounts",
]


def netroot_job(deploy: dict, commands: str, source: str | None, fs_type: str, minutes: int = 8) -> dict:
    actions = [{"deploy": deploy}, {"boot": {"method": "ipxe", "commands": commands, "prompts": [PROMPT_REGEX]}}]
    if source:
        checks = [c.replace("$ROOT_SOURCE", source).replace("$ROOT_FS", fs_type) for c in ROOT_CHECKS]
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": [inline("netroot", checks)]}})
    return ipxe_job(actions, minutes)


def nfs_deploy(imgs) -> dict:
    return {"to": "tftp", "kernel": {"url": f"file://{imgs.kernel}"}, "ramdisk": {"url": f"file://{imgs.initramfs}"},
            "nfsrootfs": {"url": f"file://{imgs.rootfs_tar}", "compression": "gz"}}


def nfs_setup(tmp_path, port: int) -> tuple:
    device, state = render_device(tmp_path, extra=f"{{% set extra_nfsroot_args = 'port={port}' %}}\n")
    dispatcher = {**DISPATCHER, "dispatcher_nfs_ip": "10.0.2.2", "nfs_root": str(tmp_path / "nfs")}
    return device, state, dispatcher


def check_root(proc, records) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_netroot", "rootfs")] == "pass", found
    assert found[("0_netroot", "root-mount")] == "pass", found
    assert job_result(records)["result"] == "pass"


@pytest.mark.qemu
def test_ipxe_boots_an_nfs_root(tmp_path, ganesha):  # noqa: F811 - the fixture
    require_board()
    imgs = netroot_x86_images()
    device, state, dispatcher = nfs_setup(tmp_path, ganesha.port)
    proc, records, _ = run_lava(tmp_path, netroot_job(nfs_deploy(imgs), "nfs", f"10.0.2.2:{tmp_path / 'nfs'}/t-1-nfs-[^ ]*",
                                                      "nfs4"), device, dispatcher_extra=dispatcher)
    check_root(proc, records)
    assert any(i.startswith(f"set extraargs root=/dev/nfs rw nfsroot=10.0.2.2:{tmp_path / 'nfs'}/t-1-nfs-")
               and f",tcp,hard,port={ganesha.port}" in i for i in inputs(records)), inputs(records)
    # the job's NFS folder and TFTP files went with the job, the board too
    assert list((tmp_path / "nfs").iterdir()) == [] and list((tmp_path / "tftp").iterdir()) == []
    assert board_gone(state)


@pytest.mark.qemu
def test_ipxe_boots_an_nbd_root(tmp_path):
    require_board()
    if not shutil.which("nbd-server"):
        pytest.skip("nbd-server is not installed")
    imgs = netroot_x86_images()
    device, state = render_device(tmp_path)
    deploy = {"to": "nbd", "kernel": {"url": f"file://{imgs.kernel}"}, "initrd": {"url": f"file://{imgs.initramfs}"},
              "nbdroot": {"url": f"file://{imgs.rootfs_ext4}"}}
    definition = netroot_job(deploy, "nbd", "/dev/nbd0", "ext4")
    definition["protocols"] = {"lava-xnbd": {"port": "auto"}}
    proc, records, _ = run_lava(tmp_path, definition, device, dispatcher_extra=DISPATCHER)
    check_root(proc, records)
    typed = inputs(records)
    assert any(i.startswith("set extraargs rw nbd.server=10.0.2.2 nbd.port=55") for i in typed), typed
    assert any(i.startswith("initrd tftp://10.0.2.2/") for i in typed), typed  # to: nbd's initrd is {RAMDISK}
    assert not _left(str(tmp_path / "dl")), "nbd-server outlived the job"
    assert board_gone(state)


@pytest.mark.qemu
def test_an_unreachable_nfs_server_ends_the_job_naming_it(tmp_path):
    """No NFS server at the port the board is told (and no nfs_server_check to catch it first): the board's
    mount fails, the job ends Incomplete at once with an Infrastructure error naming the export."""
    require_board()
    imgs = netroot_x86_images()
    device, state, dispatcher = nfs_setup(tmp_path, _free_port())  # nobody listens there
    proc, records, _ = run_lava(tmp_path, netroot_job(nfs_deploy(imgs), "nfs", None, "nfs4", minutes=4), device,
                                dispatcher_extra=dispatcher, timeout=300)
    assert proc.returncode != 0
    result = job_result(records)
    assert result["result"] == "fail" and result["error_type"] == "Infrastructure", result
    assert f"the board cannot mount its NFS root 10.0.2.2:{tmp_path / 'nfs'}/t-1-nfs-" in result["error_msg"], result
    assert "netroot: failed" in result["error_msg"]
    assert list((tmp_path / "nfs").iterdir()) == []
    assert board_gone(state)


@pytest.mark.skipif(not (CORPUS / "jobs" / "verdicts.json").is_file(), reason="../shared/corpus is not there")
def test_corpus_run_gives_up2_nbd_jobs_our_x86_netroot(tmp_path):
    """share/corpus-run.py's adaptation of the UP2 NBD job: our x86 netroot ramdisk for the Yocto initrd, and an ext4
    root whose board answers with the job's prompt (hostname intel-corei7-64) and login."""
    imgs = netroot_x86_images()
    job = yaml.safe_load((CORPUS / "jobs" / "dispatcher" / "up2-initrd-nbd.yaml").read_text())
    repo = testdefs.testdef_repository(CORPUS, [job], tmp_path)
    adapted, notes = adapt_job(job, tmp_path / "work", repo)
    deploy = adapted["actions"][0]["deploy"]
    initrd = Path(deploy["initrd"]["url"].removeprefix("file://"))
    assert initrd.read_bytes() == imgs.initramfs.read_bytes()
    root = Path(deploy["nbdroot"]["url"].removeprefix("file://"))
    assert root.suffix == ".xz"  # the job's compression
    ext4 = tmp_path / "root.ext4"
    ext4.write_bytes(lzma.decompress(root.read_bytes()))
    hostname = subprocess.run(["debugfs", "-R", "cat /etc/hostname", str(ext4)], capture_output=True, text=True)
    assert hostname.stdout.strip() == "intel-corei7-64"
    init = subprocess.run(["debugfs", "-R", "cat /init", str(ext4)], capture_output=True, text=True).stdout
    assert "login: " in init
