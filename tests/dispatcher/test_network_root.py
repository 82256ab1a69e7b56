"""Root filesystems over the network: ``to: nfs`` + ``qemu-nfs``, ``to: tftp`` + ``nfsrootfs`` + U-Boot ``nfs``,
``to: nbd`` (lava-xnbd) + QEMU, against a real nfs-ganesha and nbd-server.

The board is the arm64 busybox board of share/test-images, whose initramfs
mounts the root the kernel command line names (build-netroot.sh); the root
filesystem says "netroot rootfs" in /etc/lava-rootfs, so a test case tells a
network root from the ramdisk.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from testimages import PROMPT_REGEX, images, netroot_images, require_qemu

from lava_dispatcher.actions.deploy.nbd import debugfs_script, free_port, nbd_server_config, xnbd_port
from lava_scheduler.device_config import render_device_config

from .helpers import REPO, job_result, results, run_lava
from .qemu_jobs import inline
from .test_uboot import POWER

sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
from nfs_server import GaneshaServer  # noqa: E402

ROOT_CHECKS = [
    "lava-test-case rootfs --shell grep -q 'netroot rootfs' /etc/lava-rootfs",
    'lava-test-case root-mount --shell grep -q " / $ROOT_FS " /proc/mounts',
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _left(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


@pytest.fixture
def ganesha(tmp_path):
    if not shutil.which("ganesha.nfsd"):
        pytest.skip("nfs-ganesha is not installed")
    server = GaneshaServer(tmp_path / "nfs", _free_port(), tmp_path / "ganesha")
    server.start()
    yield server
    server.stop()
    assert not _left(str(tmp_path / "ganesha")), "ganesha outlived its test"


def render(tmp_path: Path, dictionary: str, arch: str | None = None) -> Path:
    config = render_device_config("netroot-01", dictionary, job_context={"arch": arch} if arch else None,
                                  device_types_paths=[REPO / "device-types"])
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def qemu_device(tmp_path: Path, nfs_port: int = 2049) -> Path:
    return render(tmp_path, "{% extends 'qemu.jinja2' %}\n{% set memory = 512 %}\n"
                  f"{{% set extra_nfsroot_args = 'port={nfs_port}' %}}\n", arch="arm64")


def nfs_dispatcher(tmp_path: Path, **extra) -> dict:
    # QEMU's user network: the worker is 10.0.2.2 to the guest
    return {"dispatcher_nfs_ip": "10.0.2.2", "nfs_root": str(tmp_path / "nfs"), **extra}


def job(name: str, deploy: dict, boot: dict, fs_type: str | None = None, minutes: int = 6) -> dict:
    actions = [{"deploy": deploy}, {"boot": {"prompts": [PROMPT_REGEX], **boot}}]
    if fs_type:
        checks = [c.replace("$ROOT_FS", fs_type) for c in ROOT_CHECKS]
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": [inline("netroot", checks)]}})
    return {"job_name": name, "device_type": "qemu", "visibility": "public", "context": {"arch": "arm64"},
            "timeouts": {"job": {"minutes": minutes}, "action": {"minutes": 3}}, "actions": actions}


def qemu_nfs_job(imgs, fs_type: str | None = "nfs4") -> dict:
    deploy = {"to": "nfs", "images": {
        "kernel": {"url": f"file://{imgs.kernel}", "image_arg": "-kernel {kernel}"},
        "initrd": {"url": f"file://{imgs.initramfs}", "image_arg": "-initrd {initrd}"},
        "nfsrootfs": {"url": f"file://{imgs.rootfs_tar}", "compression": "gz",
                      "image_arg": "nfsroot={NFS_SERVER_IP}:{nfsrootfs},tcp,hard"},
    }}
    return job("qemu-nfs", deploy, {"method": "qemu-nfs"}, fs_type)


def check_passed(proc, records, names=("rootfs", "root-mount")) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    for name in names:
        assert found[("0_netroot", name)] == "pass", found
    assert job_result(records)["result"] == "pass"


# -- without a board


def test_validate_accepts_the_three_deploys(tmp_path):
    device = qemu_device(tmp_path)
    fake = type("Imgs", (), {"kernel": "/k", "initramfs": "/i", "rootfs_tar": "/r.tar.gz", "rootfs_ext4": "/r.ext4"})
    for definition in (qemu_nfs_job(fake), nbd_job(fake, 55001)):
        proc, records, _ = run_lava(tmp_path, definition, device, "--validate")
        assert proc.returncode == 0, proc.stderr[-2000:]


def test_nfs_deploy_without_rootfs_is_refused(tmp_path):
    definition = job("no rootfs", {"to": "nfs", "images": {"kernel": {"url": "file:///k", "image_arg": "-kernel {kernel}"}}},
                     {"method": "qemu-nfs"})
    proc, records, _ = run_lava(tmp_path, definition, qemu_device(tmp_path), "--validate")
    assert proc.returncode != 0
    assert "'nfsrootfs' (a root filesystem tarball with a url) or 'persistent_nfs' is required" in proc.stderr


def test_xnbd_port_and_server_config(tmp_path):
    assert xnbd_port({}) == "auto"
    assert xnbd_port({"lava-xnbd": {"port": 55123}}) == 55123
    assert 55000 <= free_port() < 56000
    config = nbd_server_config(tmp_path / "root.ext4", 55123)
    assert "port = 55123" in config and f"exportname = {tmp_path / 'root.ext4'}" in config


def test_debugfs_script_keeps_modes_and_refuses_quotes(tmp_path):
    (tmp_path / "lava-1" / "bin").mkdir(parents=True)
    (tmp_path / "lava-1" / "bin" / "lava-test-case").write_text("#!/bin/sh\n")
    (tmp_path / "lava-1" / "bin" / "lava-test-case").chmod(0o755)
    script = debugfs_script(tmp_path)
    assert 'mkdir "/lava-1/bin"' in script
    assert 'sif "/lava-1/bin/lava-test-case" mode 0100755' in script
    (tmp_path / 'bad"name').write_text("")
    with pytest.raises(Exception, match="cannot be written into an ext image"):
        debugfs_script(tmp_path)


def test_unreachable_nfs_server_ends_the_job_at_once(tmp_path):
    imgs = type("Imgs", (), {"kernel": tmp_path / "k", "initramfs": tmp_path / "i", "rootfs_tar": tmp_path / "r.tar"})
    for path in (imgs.kernel, imgs.initramfs, imgs.rootfs_tar):
        path.write_bytes(b"x")
    closed = _free_port()
    proc, records, _ = run_lava(tmp_path, qemu_nfs_job(imgs, None), qemu_device(tmp_path), timeout=60,
                                dispatcher_extra=nfs_dispatcher(tmp_path, nfs_server_check=f"127.0.0.1:{closed}"))
    assert proc.returncode != 0
    result = job_result(records)
    assert result["result"] == "fail"
    assert result["error_type"] == "Infrastructure"
    assert f"the NFS server 127.0.0.1:{closed} (nfs_server_check) does not answer" in result["error_msg"]
    assert not (tmp_path / "nfs").exists() or not list((tmp_path / "nfs").iterdir())


# -- real boards


@pytest.mark.qemu
def test_qemu_nfs_boots_an_nfs_root_and_runs_tests(tmp_path, ganesha):
    require_qemu("arm64")
    imgs = netroot_images()
    proc, records, _ = run_lava(tmp_path, qemu_nfs_job(imgs), qemu_device(tmp_path, ganesha.port),
                                dispatcher_extra=nfs_dispatcher(tmp_path))
    check_passed(proc, records)
    command = next(r["msg"] for r in records if str(r["msg"]).startswith("Boot command:"))
    assert f"nfsroot=10.0.2.2:{tmp_path / 'nfs'}/t-1-nfs-" in command and "root=/dev/nfs" in command
    # the job's NFS folder went with the job, QEMU too
    assert list((tmp_path / "nfs").iterdir()) == []
    assert not _left(str(tmp_path / "dl"))


@pytest.mark.qemu
def test_missing_export_ends_the_job_naming_the_server(tmp_path, ganesha):
    """ganesha runs, but exports another folder than the worker's nfs_root: the board cannot mount its root."""
    require_qemu("arm64")
    imgs = netroot_images()
    dispatcher = nfs_dispatcher(tmp_path, nfs_root=str(tmp_path / "not-exported"))
    proc, records, _ = run_lava(tmp_path, qemu_nfs_job(imgs), qemu_device(tmp_path, ganesha.port),
                                dispatcher_extra=dispatcher)
    result = job_result(records)
    assert result["result"] == "fail" and result["error_type"] == "Infrastructure"
    assert f"the board cannot mount its NFS root 10.0.2.2:{tmp_path / 'not-exported'}/t-1-nfs-" in result["error_msg"]
    assert "netroot: failed" in result["error_msg"]  # the rest of the line may not have arrived yet
    assert not _left(str(tmp_path / "dl"))


def nbd_job(imgs, port: int | str = "auto") -> dict:
    deploy = {"to": "nbd", "kernel": {"url": f"file://{imgs.kernel}", "type": "image"},
              "initrd": {"url": f"file://{imgs.initramfs}"}, "nbdroot": {"url": f"file://{imgs.rootfs_ext4}"}}
    definition = job("nbd root", deploy, {"method": "qemu", "media": "tmpfs"}, "ext4")
    definition["protocols"] = {"lava-xnbd": {"port": port}}
    return definition


@pytest.mark.qemu
def test_nbd_root_served_by_the_jobs_nbd_server(tmp_path):
    require_qemu("arm64")
    if not shutil.which("nbd-server"):
        pytest.skip("nbd-server is not installed")
    imgs = netroot_images()
    proc, records, _ = run_lava(tmp_path, nbd_job(imgs), qemu_device(tmp_path))
    check_passed(proc, records)
    command = next(r["msg"] for r in records if str(r["msg"]).startswith("Boot command:"))
    assert "file=nbd://127.0.0.1:55" in command and "root=/dev/vda" in command
    assert not _left(str(tmp_path / "dl")), "nbd-server or QEMU outlived the job"


@pytest.mark.qemu
def test_uboot_boots_its_root_over_nfs(tmp_path, ganesha):
    """The lab's nfs-arm64-01 board: U-Boot's nfs commands from the template, kernel and ramdisk over TFTP."""
    require_qemu("arm64")
    if images().uboot_arm64 is None:
        pytest.skip("u-boot-qemu is not installed")
    imgs = netroot_images()
    port, state, tftp = _free_port(), tmp_path / "board", tmp_path / "tftp"
    power = f"{POWER} %s {state} {port} {tftp}"
    device = render(tmp_path, "{% extends 'qemu-uboot-arm64.jinja2' %}\n"
                    f"{{% set connection_command = 'socat STDIO,raw,echo=0 TCP:127.0.0.1:{port},retry=300,interval=0.1' %}}\n"
                    f"{{% set power_on_command = '{power % 'on'}' %}}\n{{% set power_off_command = '{power % 'off'}' %}}\n"
                    "{% set uboot_tftp_server_ip = '10.0.2.2' %}\n"
                    f"{{% set extra_nfsroot_args = 'port={ganesha.port}' %}}\n")
    deploy = {"to": "tftp", "kernel": {"url": f"file://{imgs.kernel}", "type": "image"},
              "ramdisk": {"url": f"file://{imgs.initramfs}"},
              "nfsrootfs": {"url": f"file://{imgs.rootfs_tar}", "compression": "gz"}}
    definition = job("u-boot nfs", deploy, {"method": "u-boot", "commands": "nfs"}, "nfs4", minutes=8)
    definition["device_type"] = "qemu-uboot-arm64"
    del definition["context"]
    proc, records, _ = run_lava(tmp_path, definition, device, dispatcher_extra=nfs_dispatcher(tmp_path))
    check_passed(proc, records)
    inputs = [r["msg"] for r in records if r["lvl"] == "input"]
    assert any(f"nfsroot=10.0.2.2:{tmp_path / 'nfs'}/t-1-nfs-" in i for i in inputs), inputs
    assert list((tmp_path / "nfs").iterdir()) == [] and list(tftp.iterdir()) == []
    assert not _left(str(state))


def test_a_hostile_root_filesystem_writes_nothing_outside_its_folder(tmp_path):
    """Members with '..' or written through a planted link: tar refuses them, the job names the archive."""
    import io
    import tarfile

    outside = tmp_path / "outside"
    outside.mkdir()
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        link = tarfile.TarInfo("escape")
        link.type, link.linkname = tarfile.SYMTYPE, str(outside)
        tar.addfile(link)
        for name in ("escape/planted", "../dotdot"):
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    imgs = type("Imgs", (), {"kernel": archive, "initramfs": archive, "rootfs_tar": archive})
    definition = qemu_nfs_job(imgs, None)
    del definition["actions"][0]["deploy"]["images"]["nfsrootfs"]["compression"]
    proc, records, _ = run_lava(tmp_path, definition, qemu_device(tmp_path), timeout=60,
                                dispatcher_extra=nfs_dispatcher(tmp_path))
    result = job_result(records)
    assert result["result"] == "fail" and "nfsrootfs 'evil.tar': tar failed" in result["error_msg"]
    assert list(outside.iterdir()) == [] and not (tmp_path / "nfs" / "dotdot").exists()
    assert list((tmp_path / "nfs").iterdir()) == []


def test_persistent_nfs_overlay_only_below_the_workers_nfs_root(tmp_path):
    """A job naming a worker folder outside nfs_root (here a stand-in for /etc) gets no overlay written there."""
    target = tmp_path / "etc"
    target.mkdir()
    inside_root = tmp_path / "nfs" / "shared-root"
    inside_root.mkdir(parents=True)
    kernel = tmp_path / "Image"
    kernel.write_bytes(b"x")
    device = render(tmp_path, "{% extends 'qemu.jinja2' %}\n", arch="arm64")
    for path, written in ((target, False), (inside_root, True)):
        definition = job("persistent", {"to": "nfs", "kernel": {"url": f"file://{kernel}"},
                                        "persistent_nfs": {"address": f"10.0.2.2:{path}"}},
                         {"method": "qemu-nfs"}, fs_type="nfs4", minutes=1)
        definition["timeouts"]["action"] = {"seconds": 20}
        run_lava(tmp_path, definition, device, timeout=90, dispatcher_extra=nfs_dispatcher(tmp_path))
        assert (path / "lava-1").exists() is written, path
    assert list(target.iterdir()) == []
