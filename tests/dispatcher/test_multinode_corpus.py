"""The reference's MultiNode sample jobs for QEMU boards pass ``lava-run --validate``, sub-job by sub-job.

A submission is split as the server splits it (each sub-job gets its role, the group's roles and
size); the reference's own sub-job samples (jobs/dispatcher) are used as they are. The device is
our qemu.jinja2 rendered for the job's architecture. Left out: the roles of other device types
(bbb, cubietruck, mustang...) and the ssh secondary connections (qemu-ssh-*, another method's).

Most of these jobs run a test shell on a QEMU disk image (``images: rootfs``): the overlay goes into
its filesystem (doc/methods-disks.md).
"""

from __future__ import annotations

import pytest
import yaml

from lava_common.yaml_loader import load_yaml
from lava_scheduler.device_config import render_device_config
from lava_scheduler.jobs.multinode import split_multinode

from .helpers import CORPUS, REPO, job_result, run_lava

JOBS = [
    "server/kvm-multinode.yaml", "server/kvm-multinode-server.yaml", "server/kvm-multinode-client.yaml",
    "server/bbb-qemu-multinode.yaml", "docs/first-multinode-job.yaml",
    "dispatcher/kvm-multinode-server.yaml", "dispatcher/kvm-multinode-client.yaml",
]



def as_scheduled(definition: dict) -> dict:
    """A sample sub-job as the server would hand it over: the group's roles written in, no role keys in the actions."""
    protocol = definition["protocols"]["lava-multinode"]
    if not isinstance(protocol.get("roles"), dict) or not all(isinstance(r, str) for r in protocol["roles"].values()):
        size = int(protocol.get("group_size", 1))
        protocol["roles"] = {str(index + 1): protocol["role"] if index == 0 else "peer" for index in range(size)}
    for action in definition["actions"]:
        next(iter(action.values())).pop("role", None)
    definition.setdefault("device_type", "qemu")  # the role's, which the server copies into each sub-job
    return definition


def qemu_sub_jobs(definition: dict) -> list[tuple[str, dict]]:
    protocol = definition["protocols"]["lava-multinode"]
    if "role" in protocol:  # already a sub-job
        return [(protocol["role"], as_scheduled(definition))]
    subs = split_multinode(definition)
    roles = {str(100 + index): sub.role for index, sub in enumerate(subs)}
    found = []
    for index, sub in enumerate(subs):
        if sub.device_type != "qemu":
            continue
        sub.definition["protocols"]["lava-multinode"].update(roles=roles, sub_id=index)
        found.append((sub.role, sub.definition))
    return found


@pytest.mark.parametrize("name", JOBS)
def test_corpus_multinode_qemu_job_validates(tmp_path, name):
    path = CORPUS / "jobs" / name
    if not path.exists():
        pytest.skip(f"corpus job {path} is not there")
    subs = qemu_sub_jobs(load_yaml(path.read_text()))
    assert subs, f"{name}: no QEMU role"
    for index, (role, job) in enumerate(subs):
        arch = (job.get("context") or {}).get("arch", "amd64")
        device = tmp_path / f"{role}-{index}-device.yaml"
        device.write_text(yaml.safe_dump(render_device_config(
            "qemu-01", "{% extends 'qemu.jinja2' %}", {"arch": arch}, device_types_paths=[REPO / "device-types"])))
        work = tmp_path / f"{role}-{index}"
        work.mkdir()
        proc, records, _ = run_lava(work, job, device, "--validate")
        result = job_result(records) if records else {"error_msg": proc.stderr[-2000:]}
        assert proc.returncode == 0, (role, result)
