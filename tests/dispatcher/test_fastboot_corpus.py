"""The reference's fastboot jobs (``deploy: to: fastboot``, ``boot: method: fastboot``) pass ``lava-run --validate``.

Each runs against a device rendered from our templates: a corpus dictionary
of its device type when there is one, else ``{% extends 'TYPE.jinja2' %}``.
A job left out is listed in ``LEFT_OUT`` with the reason. Run this file
directly for the table::

    PYTHONPATH=. .venv/bin/python tests/dispatcher/test_fastboot_corpus.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from lava_common.yaml_loader import load_yaml
from lava_scheduler.device_config import render_device_config
from tests.dispatcher.helpers import CORPUS, REPO, job_result, run_lava

JOBS = CORPUS / "jobs"
DICTIONARIES = CORPUS / "device-dictionaries"
DEVICE_TYPES = [REPO / "device-types"]
DOCKER_TEST = "a docker test shell (test: docker:), not a fastboot method"
RECOVERY = "deploy to and boot recovery (USB recovery mode), not implemented here"
# the job's file (relative to the corpus' jobs/) -> why it is not expected to validate whole
LEFT_OUT: dict[str, str] = {
    "dispatcher/docker-test-db410c.yaml": DOCKER_TEST,
    "dispatcher/docker-test.yaml": DOCKER_TEST,
    "dispatcher/download.yaml": DOCKER_TEST,
    "dispatcher/imx8mq-evk.yaml": DOCKER_TEST,
    "dispatcher/x15-uboot.yaml": DOCKER_TEST,
    "docs/artifact-conversion-download.yaml": DOCKER_TEST,
    "docs/hi6220-hikey.yaml": DOCKER_TEST,
    "dispatcher/hi6220-recovery.yaml": RECOVERY,
    "dispatcher/x15-recovery.yaml": RECOVERY,
    "docs/hi6220-hikey-bl.yaml": RECOVERY,
    "docs/x15-recovery.yaml": RECOVERY,
    "dispatcher/hikey-console.yaml": "boot method grub and new_connection, not fastboot methods",
    "dispatcher/hikey-grub.yaml": "boot method grub-efi, not a fastboot method",
    "dispatcher/hikey960-oe.yaml": "boot method grub, not a fastboot method",
    "docs/hikey-new-connection.yaml": "boot methods new_connection and uefi-menu, not fastboot methods",
    "docs/hikey-oe.yaml": "boot method uefi-menu, not a fastboot method",
    "docs/fastboot-nfs.yaml": "deploy to nfs, not a fastboot method",
}
OURS = {("deploy", "fastboot"), ("deploy", "downloads"), ("deploy", "download"), ("boot", "fastboot")}

pytestmark = pytest.mark.skipif(not JOBS.is_dir(), reason="shared corpus not available")


def _uses_fastboot(job: object) -> bool:
    if not isinstance(job, dict) or not isinstance(job.get("actions"), list):
        return False
    for action in job["actions"]:
        block = next(iter(action.values()), None) if isinstance(action, dict) and action else None
        if isinstance(block, dict) and ("fastboot" in (block.get("to"), block.get("method"))):
            return True
    return False


def fastboot_jobs() -> list[Path]:
    found = []
    for path in sorted(JOBS.rglob("*.yaml")):
        try:
            job = load_yaml(path.read_text())
        except Exception:  # noqa: BLE001 - a corpus file that is not a job is not ours to judge
            continue
        if _uses_fastboot(job):
            found.append(path)
    return found


def dictionary_for(device_type: str) -> tuple[str, str]:
    """(hostname, dictionary text): a corpus dictionary of that type, else a minimal one."""
    pattern = re.compile(r"""{%\s*extends\s+['"]""" + re.escape(device_type) + r"""\.jinja2['"]""")
    for path in sorted(DICTIONARIES.glob("*.jinja2")) if DICTIONARIES.is_dir() else []:
        text = path.read_text()
        if pattern.search(text):
            return path.stem, text
    return f"{device_type}-01", f"{{% extends '{device_type}.jinja2' %}}\n"


def fastboot_part(job: dict) -> dict:
    """The job with only its fastboot blocks (deploy fastboot/downloads, boot fastboot, then plain tests)."""
    kept = []
    for action in job["actions"]:
        section, block = next(iter(action.items()))
        kind = block.get("to") or block.get("method") if isinstance(block, dict) else None
        if (section, kind) in OURS or section == "command":
            kept.append(action)
        elif section == "test" and "docker" not in block and any("boot" in a for a in kept):
            kept.append(action)
    return {**job, "actions": kept}


def validate(path: Path, tmp_path: Path, only_ours: bool = False) -> str:
    """'' when the job validates, else the error."""
    job = load_yaml(path.read_text())
    if only_ours:
        job = fastboot_part(job)
        path = tmp_path / "fastboot-part.yaml"
        path.write_text(yaml.safe_dump(job))
    device_type = job.get("device_type")
    if not device_type:
        return "no device_type (MultiNode)"
    hostname, text = dictionary_for(str(device_type))
    device = tmp_path / f"{hostname}.yaml"
    device.write_text(yaml.safe_dump(render_device_config(hostname, text, {}, device_types_paths=DEVICE_TYPES)))
    proc, records, _ = run_lava(tmp_path, path, device, "--validate", timeout=60)
    if proc.returncode == 0:
        return ""
    result = job_result(records) if any(r.get("lvl") == "results" for r in records) else {}
    return str(result.get("error_msg") or proc.stderr[-500:])


def test_the_corpus_fastboot_jobs_validate(tmp_path, capsys):
    jobs = fastboot_jobs()
    assert jobs, "no fastboot job found in the corpus"
    failures = {}
    for path in jobs:
        name = str(path.relative_to(JOBS))
        if name not in LEFT_OUT and (error := validate(path, tmp_path)):
            failures[name] = error
    with capsys.disabled():
        print(f"\nfastboot corpus jobs: {len(jobs) - len(failures) - len(LEFT_OUT)}/{len(jobs)} validate, "
              f"{len(LEFT_OUT)} left out")
    assert not failures, failures


def test_the_fastboot_blocks_of_every_corpus_job_validate(tmp_path):
    """Jobs left out for other methods' blocks: what they ask of the fastboot methods validates."""
    failures = {}
    for path in fastboot_jobs():
        error = validate(path, tmp_path, only_ours=True)
        if error:
            failures[str(path.relative_to(JOBS))] = error
    assert not failures, failures


if __name__ == "__main__":
    import tempfile

    for job_path in fastboot_jobs():
        with tempfile.TemporaryDirectory() as scratch:
            message = validate(job_path, Path(scratch))
            ours = validate(job_path, Path(scratch), only_ours=True)
        print(f"{'ok  ' if not message else 'FAIL'} {job_path.relative_to(JOBS)} {message}")
        print(f"     fastboot blocks only: {ours or 'ok'}")
    sys.exit(0)
