"""The reference's sample jobs that deploy disk images or downloads pass ``lava-run --validate``.

Scope: QEMU jobs deploying ``to: tmpfs`` (disk images with or without the overlay), every job with
``to: download``/``downloads``/``overlay``/``iso-installer``, and the compression samples, each run
against a device rendered from our templates (the corpus dictionary of that type, else a bare
``{% extends %}``). Jobs left out name their reason. Skips without ../shared/corpus.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import device_type_of_dictionary, render_device_config

from .helpers import CORPUS, REPO

JOBS = CORPUS / "jobs"
DEPLOYS = {"download", "downloads", "overlay", "iso-installer"}
LEFT_OUT = {
    "dispatcher/download.yaml": "its second deploy is to: fastboot (the fastboot work)",
    "docs/artifact-conversion-download.yaml": "its second deploy is to: fastboot (the fastboot work)",
    "dispatcher/qemu-rclone-download.yaml": "rclone:// URLs: no rclone on the workers",
    "dispatcher/dfu-zephyr-monitor.yaml": "boot method dfu (an MCU board) after its download deploy",
    "dispatcher/rzn1d-dfu.yaml": "deploys to tmpfs on a dfu board (an MCU board's deploy)",
    "dispatcher/jlink-multiple-flash-multinode.yaml": "a J-Link board's deploy beside its download",
    "docs/fastboot-nfs.yaml": "its other deploys are to: fastboot and nfs (the fastboot and NFS work)",
    "server/bbb-qemu-multinode.yaml": "its beaglebone role's tftp deploy is not offered by that dictionary",
    "dispatcher/kvm-command.yaml": "its user command is not in the device dictionary (device configuration)",
    "dispatcher/zephyr-qemu-test-task.yaml": "serial: '-serial mon:stdio' puts the QEMU monitor on the console (refused)",
    "server/qemu-ssh-guest.yaml": "a MultiNode ssh guest (to: ssh)",
    "server/qemu-foo.yaml": "device type qemu_foo does not exist (a submission test)",
    "server/qemu-foo-nonexisting.yaml": "device type qemu_foo_nonexisting does not exist (a submission test)",
}

# the reference's docs write their lab's file server as __FQDN__: any server of ours stands for it
FILE_SERVER = "http://files.lab.example"


def _in_scope(job: dict) -> bool:
    deploys = [a["deploy"] for a in job.get("actions") or [] if isinstance(a, dict) and "deploy" in a]
    if any(d.get("to") in DEPLOYS for d in deploys):
        return True
    qemu = str(job.get("device_type", "qemu")).startswith("qemu") or job.get("device_type") is None
    return qemu and any(d.get("to") == "tmpfs" for d in deploys)


def _scope() -> list[str]:
    if not JOBS.is_dir():
        return []
    verdicts = json.loads((JOBS / "verdicts.json").read_text())
    found = []
    for path in sorted(JOBS.rglob("*.yaml")):
        rel = path.relative_to(JOBS).as_posix()
        if verdicts.get(f"jobs/{rel}", {}).get("reference_verdict") != "valid":
            continue
        job = yaml.safe_load(path.read_text())
        if isinstance(job, dict) and (_in_scope(job) or rel.startswith("dispatcher/compression")):
            found.append(rel)
    return found


def _dictionary(device_type: str) -> str:
    # a QEMU worker whose admin set up a bridge for QEMU's bridge helper (jobs with netdevice: tap)
    tap = "\n{% set tap_bridge = 'lavabr0' %}\n" if device_type == "qemu" else ""
    for path in sorted((CORPUS / "device-dictionaries").glob("*.jinja2")):
        text = path.read_text()
        try:
            if device_type_of_dictionary(text) == device_type:
                return text + tap
        except Exception:  # noqa: BLE001 - a dictionary we cannot read is simply not that type's
            continue
    return "{% extends '" + device_type + ".jinja2' %}" + tap


SCOPE = _scope()


@pytest.mark.skipif(not SCOPE, reason="../shared/corpus is not there")
@pytest.mark.parametrize("rel", SCOPE)
def test_corpus_job_validates(tmp_path: Path, rel: str) -> None:
    if rel in LEFT_OUT:
        pytest.skip(LEFT_OUT[rel])
    text = (JOBS / rel).read_text().replace("__FQDN__", FILE_SERVER)
    (tmp_path / "job.yaml").write_text(text)
    job = yaml.safe_load(text)
    device = render_device_config("corpus-01", _dictionary(job.get("device_type") or "qemu"), job.get("context"))
    (tmp_path / "device.yaml").write_text(yaml.safe_dump(device))
    (tmp_path / "dispatcher.yaml").write_text(yaml.safe_dump({"dispatcher_download_dir": str(tmp_path / "dl")}))
    proc = subprocess.run(
        [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir", str(tmp_path / "out"),
         "--device", str(tmp_path / "device.yaml"), "--dispatcher", str(tmp_path / "dispatcher.yaml"),
         "--validate", str(tmp_path / "job.yaml")],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-1500:]


@pytest.mark.skipif(not SCOPE, reason="../shared/corpus is not there")
def test_left_out_jobs_are_in_scope() -> None:
    """Every job listed as left out is still one of the scope (no stale entries)."""
    assert set(LEFT_OUT) <= set(SCOPE)
