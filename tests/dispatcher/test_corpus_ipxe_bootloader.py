"""The reference's sample jobs that boot with ``method: ipxe`` or ``method: bootloader`` pass ``lava-run --validate``.

Each runs against a device rendered from our templates: the corpus dictionary of its
device type when there is one, else a bare ``{% extends '<type>.jinja2' %}``. Jobs
whose other blocks need a method outside this area are listed in ``LEFT_OUT``
with the reason, and skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import device_type_of_dictionary, render_device_config

from .helpers import CORPUS, REPO, run_lava

JOBS = CORPUS / "jobs"
BOOT_METHOD = re.compile(r"^\s*method:\s*(ipxe|bootloader)\s*$", re.MULTILINE)
CORPUS_JOBS = sorted(p for p in JOBS.rglob("*.yaml") if BOOT_METHOD.search(p.read_text())) if JOBS.is_dir() else []

LEFT_OUT = {
    "dispatcher/rzn1d-dfu.yaml": "deploy to tmpfs on a DFU board and boot method dfu (not in this area)",
    "dispatcher/uuu_enhance_test.yaml": "its bcu commands need a bcu_board_id the imx8mq-evk dictionary lacks",
}


def _dictionaries() -> dict[str, Path]:
    """The first corpus dictionary of each device type."""
    found: dict[str, Path] = {}
    for path in sorted((CORPUS / "device-dictionaries").glob("*.jinja2")):
        found.setdefault(device_type_of_dictionary(path.read_text()), path)
    return found


def _name(path: Path) -> str:
    return str(path.relative_to(JOBS))


@pytest.mark.skipif(not CORPUS_JOBS, reason="corpus of jobs not available")
def test_the_list_of_jobs_is_the_corpus_one():
    assert len(CORPUS_JOBS) == 18
    assert set(LEFT_OUT) <= {_name(p) for p in CORPUS_JOBS}


@pytest.mark.skipif(not CORPUS_JOBS, reason="corpus of jobs not available")
@pytest.mark.parametrize("path", CORPUS_JOBS, ids=_name)
def test_corpus_job_validates(tmp_path, path):
    if _name(path) in LEFT_OUT:
        pytest.skip(LEFT_OUT[_name(path)])
    job = yaml.safe_load(path.read_text())
    device_type = job["device_type"]
    source = _dictionaries().get(device_type)
    dictionary = source.read_text() if source else f"{{% extends '{device_type}.jinja2' %}}"
    config = render_device_config(f"{device_type}-01", dictionary, job.get("context"),
                                  device_types_paths=[REPO / "device-types"])
    device = tmp_path / "device.yaml"
    device.write_text(yaml.safe_dump(config))
    proc, _, _ = run_lava(tmp_path, path, device, "--validate")
    assert proc.returncode == 0, proc.stderr[-2000:]
