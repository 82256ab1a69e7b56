"""``deploy: to: iso-installer`` + ``boot: method: qemu-iso``: an installer CD installs onto an empty disk.

The reference's sample job runs to Complete through lava-run (adapted only in URLs) with the test
installer ISO of share/test-images/build-iso.sh, on a device rendered from our qemu template: the
installer fetches the preseed lava-run serves, partitions, installs and powers off; the installed
disk boots through EXTLINUX to a login, and the tests run there from the overlay disk. Bad input:
a kernel path the ISO does not have, a preseed the installer cannot reach, an installer that never
finishes, each Incomplete with an error that names the cause.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml
from testimages import installer_images, require_qemu

from lava_common.exceptions import JobError
from lava_dispatcher.actions.deploy.iso_installer import extract_from_iso, installation_bytes
from lava_scheduler.device_config.render import render_device_config

from .helpers import CORPUS, job_result, results, run_lava

HANG_TIMEOUT = 90  # the installer reaches its early_command in ~20 s on an idle 2-core host
SAMPLE = CORPUS / "jobs" / "dispatcher" / "qemu-debian-installer.yaml"
SMOKE = """\
metadata:
  format: Lava-Test Test Definition 1.0
  name: smoke-tests-basic
  description: the installed system is the one the installer wrote, as the preseed asked
run:
  steps:
  - lava-test-case installed --shell test -f /etc/lava-installed
  - lava-test-case root-on-installed-disk --shell grep -q "^$(findfs $(grep -o 'UUID=[^ ]*' /proc/cmdline)) / " /proc/mounts
  - lava-test-case hostname-from-preseed --shell test "$(hostname)" = debian
  - lava-test-case late-command-ran --shell grep -q late_command /etc/lava-late-command
  - lava-test-case overlay-disk-mounted --shell grep -q ' /lava-1 ext2 ' /proc/mounts
"""


def _gone(marker: str) -> bool:
    """No process has ``marker`` in its command line."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    return False
            except OSError:
                continue
    return True


def _device(tmp_path: Path) -> Path:
    """A qemu device rendered from our template (amd64: -net user, the overlay disk on IDE)."""
    device = render_device_config("qemu-iso-01", "{% extends 'qemu.jinja2' %}", {"arch": "amd64"})
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(device))
    return path


def _sample_job(tmp_path: Path, preseed: Path | None = None) -> dict:
    """The reference's sample with our ISO, preseed and test repository: only the URLs change."""
    if not SAMPLE.is_file():
        pytest.skip("../shared/corpus is not there")
    imgs = installer_images()
    job = yaml.safe_load(SAMPLE.read_text())
    deploy = job["actions"][0]["deploy"]
    deploy["images"]["iso"]["url"] = f"file://{imgs.iso}"
    deploy["images"]["preseed"]["url"] = f"file://{preseed or imgs.preseed}"
    repo = tmp_path / "functional-tests"
    (repo / "lava-test-shell").mkdir(parents=True)
    (repo / "lava-test-shell" / "smoke-tests-basic.yaml").write_text(SMOKE)
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "smoke"]):
        subprocess.run(["git", *command], cwd=repo, check=True, capture_output=True)
    job["actions"][2]["test"]["definitions"][0]["repository"] = str(repo)
    return job


def test_installation_size():
    assert installation_bytes("2G") == 2 << 30
    assert installation_bytes("800M") == 800 << 20
    for bad in ("2", "2T", "0G", "9G", 2, "-1G"):
        with pytest.raises(ValueError, match="iso.installation_size"):
            installation_bytes(bad)


def test_extract_from_the_iso_without_mounting(tmp_path):
    imgs = installer_images()
    found = extract_from_iso(imgs.iso, {"kernel": imgs.kernel_path, "initrd": imgs.initrd_path}, tmp_path / "out")
    assert found["kernel"].read_bytes()[0x202:0x206] == b"HdrS"  # an x86 bzImage
    assert found["initrd"].read_bytes()[:2] == b"\x1f\x8b"
    with pytest.raises(JobError, match=r"iso.kernel: '/install.amd/nope' cannot be taken out of the ISO 'lava-installer.iso': no such file"):
        extract_from_iso(imgs.iso, {"kernel": "/install.amd/nope"}, tmp_path / "out")
    with pytest.raises(JobError, match=r"images.iso: 'preseed.cfg' is not an ISO 9660 image"):
        extract_from_iso(imgs.preseed, {"kernel": imgs.kernel_path}, tmp_path / "out")


def test_an_iso_without_the_kernel_named_is_incomplete(tmp_path):
    """The deploy fails before any QEMU starts, naming the path and the ISO."""
    job = _sample_job(tmp_path)
    job["actions"][0]["deploy"]["iso"]["kernel"] = "/install.amd/vmlinuz-missing"
    proc, records, _ = run_lava(tmp_path, job, _device(tmp_path), timeout=120)
    assert proc.returncode != 0
    result = job_result(records)
    assert result["error_type"] == "Job", result
    assert "iso.kernel: '/install.amd/vmlinuz-missing' cannot be taken out of the ISO 'lava-installer.iso'" in result[
        "error_msg"]
    assert not any("qemu-system" in str(r.get("msg")) for r in records if r.get("lvl") == "info")


@pytest.mark.qemu
def test_the_reference_sample_installs_boots_and_tests(tmp_path):
    require_qemu("x86_64")
    job = _sample_job(tmp_path)
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, _device(tmp_path), timeout=1500,
                                dispatcher_extra={"dispatcher_ip": "10.0.2.2"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    for case in ("installed", "root-on-installed-disk", "hostname-from-preseed", "late-command-ran",
                 "overlay-disk-mounted"):
        assert found[("0_smoke-tests", case)] == "pass", case
    assert found[("lava", "execute-installer-command")] == "pass"
    assert job_result(records)["result"] == "pass"
    messages = [str(r.get("msg")) for r in records]
    assert any("serving the preseed at http://10.0.2.2:" in m for m in messages)
    assert any("file server:" in m and "preseed.cfg" in m and " 200 " in m for m in messages)  # the installer fetched it
    assert any("SYSLINUX" in m for m in messages)  # the installed disk booted through its own boot loader
    assert _gone(str(tmp_path / "dl"))
    print(f"install + boot + tests: {time.monotonic() - started:.1f} s")


@pytest.mark.qemu
@pytest.mark.parametrize("case", ["preseed-unreachable", "never-finishes"])
def test_installer_failures_name_the_cause(tmp_path, case):
    require_qemu("x86_64")
    dispatcher_extra = {"dispatcher_ip": "10.0.2.2"}
    preseed = None
    if case == "preseed-unreachable":
        # the guest's own loopback: the URL lava-run gives the installer leads nowhere
        dispatcher_extra["dispatcher_ip"] = "127.0.0.1"
    else:
        preseed = tmp_path / "hang.cfg"
        preseed.write_text("d-i preseed/early_command string sleep 100000\n")
    job = _sample_job(tmp_path, preseed)
    if case == "never-finishes":
        # long enough for the installer's kernel to reach the early_command on a loaded machine
        job["actions"][1]["boot"]["timeout"] = {"seconds": HANG_TIMEOUT}
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, _device(tmp_path), timeout=900, dispatcher_extra=dispatcher_extra)
    assert proc.returncode != 0
    result = job_result(records)
    print(f"{case}: {result['error_type']}: {result['error_msg']}")
    if case == "preseed-unreachable":
        assert result["error_type"] == "Job", result
        assert "the installer failed: " in result["error_msg"]
        assert "Failed to retrieve the preconfiguration file" in result["error_msg"]
        assert "http://127.0.0.1:" in result["error_msg"]
    else:
        assert result["error_type"] == "LAVATimeout", result
        assert f"the installer did not finish within {HANG_TIMEOUT} seconds" in result["error_msg"]
        assert "running preseed/early_command: sleep 100000" in result["error_msg"]
    assert time.monotonic() - started < HANG_TIMEOUT + 120
    assert _gone(str(tmp_path / "dl"))
