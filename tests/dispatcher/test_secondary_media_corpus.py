"""The reference's secondary-media sample jobs pass ``lava-run --validate`` with a device from our templates.

``to: usb``/``sata`` written from a master OS, U-Boot's and GRUB's ``usb``/``sata`` command lists,
``to: u-boot-ums``. Each job runs against a corpus dictionary of its device type (they name the
media labels the jobs use), else a bare ``{% extends 'TYPE.jinja2' %}``.
"""

from __future__ import annotations

import pytest
import yaml

from lava_scheduler.device_config import render_device_config

from .helpers import CORPUS, REPO, run_lava
from .test_network_root_corpus import WIRING

JOBS = {
    "jobs/dispatcher/cubietruck-removable.yaml": "cubie1",
    "jobs/dispatcher/cubietruck-removable-with-writer.yaml": "cubie1",
    "jobs/dispatcher/juno-uboot-removable.yaml": "juno-uboot-01",
    "jobs/dispatcher/mustang-secondary-media.yaml": "mustang1",
    "jobs/dispatcher/warp7-ums.yaml": "imx7s-warp-01",
    "jobs/docs/x86-sata-commands.yaml": "x86-01",
}


@pytest.mark.skipif(not (CORPUS / "jobs").is_dir(), reason="the reference corpus is not checked out beside the repo")
def test_secondary_media_corpus_jobs_validate(tmp_path):
    failures = {}
    for name, dictionary in JOBS.items():
        text = (CORPUS / "device-dictionaries" / f"{dictionary}.jinja2").read_text()
        # what the corpus dictionary leaves out (a console, power commands), from the shared wiring
        text += "".join(line + "\n" for line in WIRING.splitlines() if line.split()[2] not in text)
        job = yaml.safe_load((CORPUS / name).read_text())
        config = render_device_config(f"{dictionary}", text, job_context=job.get("context"),
                                      device_types_paths=[REPO / "device-types"])
        folder = tmp_path / name.replace("/", "_")
        folder.mkdir()
        (folder / "device.yaml").write_text(yaml.safe_dump(config))
        proc, _, _ = run_lava(folder, CORPUS / name, folder / "device.yaml", "--validate", timeout=60)
        print(f"  {'ok  ' if proc.returncode == 0 else 'FAIL'}  {name} ({dictionary})")
        if proc.returncode != 0:
            failures[name] = [line for line in proc.stderr.splitlines() if '"error"' in line][-1:] or proc.stderr[-600:]
    assert not failures, failures
