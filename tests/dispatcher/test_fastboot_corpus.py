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
# the job's file (relative to the corpus' jobs/) -> why it is not expected to validate
LEFT_OUT: dict[str, str] = {}

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


def validate(path: Path, tmp_path: Path) -> str:
    """'' when the job validates, else the error."""
    job = load_yaml(path.read_text())
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
        error = validate(path, tmp_path)
        if error and name not in LEFT_OUT:
            failures[name] = error
    with capsys.disabled():
        print(f"\nfastboot corpus jobs: {len(jobs) - len(failures) - len(LEFT_OUT)}/{len(jobs)} validate, "
              f"{len(LEFT_OUT)} left out")
    assert not failures, failures


if __name__ == "__main__":
    import tempfile

    for job_path in fastboot_jobs():
        with tempfile.TemporaryDirectory() as scratch:
            message = validate(job_path, Path(scratch))
        print(f"{'ok  ' if not message else 'FAIL'} {job_path.relative_to(JOBS)} {message}")
    sys.exit(0)
