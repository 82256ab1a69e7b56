"""The reference's MultiNode sample job docs/first-multinode-job.yaml, submitted with lavacli to a lab in a box.

The job is adapted by share/corpus-run.py's own functions, and only in URLs (our test images, a
BIOS-bootable boot disk and a local git repository of test definitions) and timeouts (x3: the
job's one-minute boot assumes KVM). The adapted files go into a folder of the lab's test-images
folder, the only one its worker reads file:// URLs and local git repositories from. The two roles
carry no tags: the scheduler puts them on the lab's two QEMU boards. Skips without the corpus.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from testimages import disk_images, images, require_qemu

from .lab_client import LabClient
from .postgres import scratch_database
from .test_lab import RunningLab, finished, log_has, wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
JOB = CORPUS / "jobs" / "docs" / "first-multinode-job.yaml"
BOARDS = "qemu-x86-64-01,qemu-arm64-01"
TIMEOUT_FACTOR = 3
pytestmark = [pytest.mark.qemu, pytest.mark.lab,
              pytest.mark.skipif(not JOB.is_file(), reason=f"{JOB} is not there (../shared/corpus)")]


def corpus_run():
    spec = importlib.util.spec_from_file_location("corpus_run", REPO_ROOT / "share" / "corpus-run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def module():
    require_qemu("x86_64")
    images(), disk_images()
    found = corpus_run()
    reason = found.build_images("build-bootdisk.sh")  # GRUB for the whole-disk images (Debian's grub-pc-bin)
    if reason:
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def lab(module, tmp_path_factory):
    for tool in ("ser2net", "socat"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (share/ci/setup-host.sh)")
    with scratch_database(os.environ.get("LAVA_DATABASE_URL")) as database_url:
        running = RunningLab(tmp_path_factory.mktemp("lab"), database_url)
        running.start(args=("--no-samples", "--boards", BOARDS))
        try:
            yield running
        finally:
            running.stop()
            assert running.leftovers() == [], running.output()


@pytest.fixture
def readable_by_the_worker(module):
    """A folder of the lab worker's only allowed folder (the test images), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="corpus-lab-", dir=module.images_dir()))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_first_multinode_job_completes_with_each_roles_results(module, lab, readable_by_the_worker, tmp_path):
    user, token = lab.credentials()
    client = LabClient(lab.url, user, token, lab.env, lab.state)
    job = yaml.safe_load(JOB.read_text())
    repo = module.testdef_repository(CORPUS, [job], readable_by_the_worker)
    adapted, notes = module.adapt_job(job, readable_by_the_worker, repo, TIMEOUT_FACTOR)
    path = tmp_path / JOB.name
    path.write_text(yaml.safe_dump(adapted, sort_keys=False))
    for device in BOARDS.split(","):
        wait_for(lambda d=device: client.device_health(d) == "Good", 300, f"{device} Good", lab)
    sub_ids = client.submit_group(path)
    first = sub_ids[0].split(".")[0]
    assert sub_ids == [f"{first}.0", f"{first}.1"], sub_ids
    jobs = {sub: wait_for(lambda s=sub: finished(client, s), module.job_timeout(adapted), f"job {sub} finished", lab)
            for sub in sub_ids}
    ends = {sub: [r["msg"] for r in client.log(sub) if r.get("lvl") in ("results", "error")][-3:] for sub in sub_ids}
    assert {sub: job["health"] for sub, job in jobs.items()} == dict.fromkeys(sub_ids, "Complete"), (notes, ends)
    assert {job["device"] for job in jobs.values()} == set(BOARDS.split(","))
    for sub in sub_ids:
        cases = {(r["suite"], r["name"]): r["result"] for r in client.results(sub)}  # lavacli results <id>.<n>
        ours = {key: result for key, result in cases.items() if key[0] != "lava"}
        assert {suite for suite, _ in ours} == {"0_multinode-basic", "1_smoke-tests"}, cases
        assert set(ours.values()) == {"pass"}, cases
        # the group's sync went through the lab's coordinator: the dispatcher's own record of it
        assert (cases[("0_multinode-basic", "multinode-sync")], cases[("lava", "multinode-sync-running")]) == (
            "pass", "pass"), cases
        # lavacli jobs logs <id>.<n>: the whole log, from the boot through the boot disk to the group's sync
        assert log_has(client, sub, r"Linux version"), sub
        assert log_has(client, sub, r"^<LAVA_SYNC_COMPLETE>$"), sub
