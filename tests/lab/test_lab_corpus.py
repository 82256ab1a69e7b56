"""The reference's MultiNode sample jobs on QEMU, submitted with lavacli to a lab in a box.

docs/first-multinode-job.yaml and server/kvm-multinode.yaml (the corpus's MultiNode groups whose
roles are all QEMU boards of one architecture) are adapted by share/corpus-run.py's own functions,
only in URLs (our test images, a BIOS-bootable boot disk and a local git repository of test
definitions) and timeouts (x3: the jobs' one-minute boots assume KVM). The adapted files go into a
folder of the lab's test-images folder, the only one its worker reads file:// URLs and local git
repositories from. kvm-multinode.yaml's roles ask for tags naming hardware the lab's QEMU boards do
not have (usb-flash, usb-eth, testtag): the lab would keep the group queued, so the roles' tags
(which choose devices, as device names do) are dropped and the roles go to the lab's two QEMU boards.
Skips without the corpus.
"""

from __future__ import annotations

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
sys.path.insert(0, str(REPO_ROOT / "share"))
from corpus_run import testdefs  # noqa: E402 - share/ is not a package; the module: pytest collects test*() names
from corpus_run.adapt import adapt_job  # noqa: E402
from corpus_run.images import build_images, images_dir  # noqa: E402
from corpus_run.running import job_timeout  # noqa: E402

JOBS = ("docs/first-multinode-job.yaml", "server/kvm-multinode.yaml")
BOARDS = "qemu-x86-64-01,qemu-arm64-01"
TIMEOUT_FACTOR = 3
pytestmark = [pytest.mark.qemu, pytest.mark.lab,
              pytest.mark.skipif(not (CORPUS / "jobs").is_dir(), reason=f"{CORPUS} is not there")]


@pytest.fixture(scope="module")
def corpus_images() -> None:
    require_qemu("x86_64")
    images(), disk_images()
    reason = build_images("build-bootdisk.sh")  # GRUB for the whole-disk images (Debian's grub-pc-bin)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab(corpus_images, tmp_path_factory):
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
def readable_by_the_worker(corpus_images):
    """A folder of the lab worker's only allowed folder (the test images), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="corpus-lab-", dir=images_dir()))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def without_tags(job: dict) -> dict:
    """The job with its roles' tags dropped: they name hardware features, which the lab's boards lack."""
    for role in job["protocols"]["lava-multinode"]["roles"].values():
        role.pop("tags", None)
    return job


@pytest.mark.parametrize("name", JOBS)
def test_a_qemu_multinode_sample_completes_with_each_roles_results(name, corpus_images, lab, readable_by_the_worker,
                                                                    tmp_path):
    user, token = lab.credentials()
    client = LabClient(lab.url, user, token, lab.env, lab.state)
    job = without_tags(yaml.safe_load((CORPUS / "jobs" / name).read_text()))
    repo = testdefs.testdef_repository(CORPUS, [job], readable_by_the_worker)
    adapted, notes = adapt_job(job, readable_by_the_worker, repo, TIMEOUT_FACTOR)
    path = tmp_path / Path(name).name
    path.write_text(yaml.safe_dump(adapted, sort_keys=False))
    for device in BOARDS.split(","):
        wait_for(lambda d=device: client.device_health(d) == "Good", 300, f"{device} Good", lab)
    sub_ids = client.submit_group(path)
    first = sub_ids[0].split(".")[0]
    assert sub_ids == [f"{first}.0", f"{first}.1"], sub_ids
    jobs = {sub: wait_for(lambda s=sub: finished(client, s), job_timeout(adapted), f"job {sub} finished", lab)
            for sub in sub_ids}
    ends = {sub: [r["msg"] for r in client.log(sub) if r.get("lvl") in ("results", "error")][-3:] for sub in sub_ids}
    assert {sub: sub_job["health"] for sub, sub_job in jobs.items()} == dict.fromkeys(sub_ids, "Complete"), (
        notes, ends)
    assert {sub_job["device"] for sub_job in jobs.values()} == set(BOARDS.split(","))
    definitions = next(action["test"]["definitions"] for action in job["actions"] if "test" in action)
    suites = {f"{index}_{definition['name']}" for index, definition in enumerate(definitions)}
    for sub in sub_ids:
        cases = {(r["suite"], r["name"]): r["result"] for r in client.results(sub)}  # lavacli results <id>.<n>
        ours = {key: result for key, result in cases.items() if key[0] != "lava"}
        assert {suite for suite, _ in ours} == suites, cases
        assert set(ours.values()) == {"pass"}, cases
        # the group's sync went through the lab's coordinator: the dispatcher's own record of it
        assert (cases[("0_multinode-basic", "multinode-sync")], cases[("lava", "multinode-sync-running")]) == (
            "pass", "pass"), cases
        # lavacli jobs logs <id>.<n>: the whole log, from the boot through the boot disk to the group's sync
        assert log_has(client, sub, r"Linux version"), sub
        assert log_has(client, sub, r"^<LAVA_SYNC_COMPLETE>$"), sub
