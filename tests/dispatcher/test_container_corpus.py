"""The reference's sample jobs that use containers (docker deploy/boot/test, lxc) pass `lava-run --validate`.

Each job (each MultiNode sub-job that has a container block) is validated with
a device rendered from our templates: the corpus dictionary of its device type
when there is one, else a bare ``{% extends 'TYPE.jinja2' %}``. A job may only
fail on a block of another method that this branch does not run (fastboot,
jlink...): never on a container block.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config import render_device_yaml
from lava_scheduler.jobs.multinode import split_multinode

from .helpers import CORPUS, REPO

DEVICE_TYPES = [REPO / "device-types"]
JOBS = CORPUS / "jobs"
DICTIONARIES = CORPUS / "device-dictionaries"
_EXTENDS = re.compile(r"""{%-?\s*extends\s+['"]([^'"]+)\.jinja2['"]""")


def container_blocks(job: dict) -> list[int]:
    """Positions of the blocks that use a container."""
    found = []
    for position, action in enumerate(job.get("actions") or []):
        (section, block), = action.items()
        if not isinstance(block, dict):
            continue
        if ((section == "deploy" and block.get("to") in ("docker", "lxc"))
                or (section == "boot" and block.get("method") in ("docker", "lxc"))
                or (section == "test" and "docker" in block)):
            found.append(position)
    return found


def corpus_jobs() -> list[tuple[str, dict]]:
    """(name, job) for every single-node job or MultiNode sub-job with a container block."""
    if not JOBS.is_dir():
        return []
    chosen = []
    for path in sorted(JOBS.rglob("*.yaml")):
        job = yaml.safe_load(path.read_text())
        if not isinstance(job, dict) or not isinstance(job.get("actions"), list):
            continue
        name = str(path.relative_to(JOBS))
        roles = ((job.get("protocols") or {}).get("lava-multinode") or {}).get("roles")
        # a submission to split (roles are mappings), not a sub-job the server already split
        if isinstance(roles, dict) and all(isinstance(role, dict) for role in roles.values()):
            subs = split_multinode(job)
            for sub in subs:
                if container_blocks(sub.definition):
                    # what the server writes when the group is scheduled: this sub-job is job 1
                    others = [other.role for other in subs if other is not sub]
                    roles = {str(number): role for number, role in enumerate([sub.role, *others], start=1)}
                    sub.definition["protocols"]["lava-multinode"]["roles"] = roles
                    chosen.append((f"{name}[{sub.role}]", sub.definition))
        elif container_blocks(job):
            chosen.append((name, job))
    return chosen


def device_for(device_type: str, tmp_path: Path) -> Path:
    dictionary = f"{{% extends '{device_type}.jinja2' %}}\n"
    for path in sorted(DICTIONARIES.glob("*.jinja2")) if DICTIONARIES.is_dir() else []:
        match = _EXTENDS.search(path.read_text())
        if match and match.group(1) == device_type:
            dictionary = path.read_text()
            break
    out = tmp_path / f"{device_type}.yaml"
    out.write_text(render_device_yaml(f"{device_type}-01", dictionary, device_types_paths=DEVICE_TYPES))
    return out


def validate(tmp_path: Path, job: dict, device: Path) -> tuple[bool, str]:
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    proc = subprocess.run(
        [sys.executable, "-m", "lava_dispatcher.cli", "--validate", "--job-id", "1", "--output-dir",
         str(tmp_path / "out"), "--device", str(device), str(tmp_path / "job.yaml")],
        capture_output=True, text=True, timeout=60, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    errors = [line for line in proc.stderr.splitlines() if '"lvl": "error"' in line]
    return proc.returncode == 0, "\n".join(errors) or proc.stderr[-1500:]


JOB_LIST = corpus_jobs()


def test_the_corpus_has_the_container_jobs():
    if not JOBS.is_dir():
        pytest.skip(f"no corpus at {JOBS}")
    assert len(JOB_LIST) >= 15


@pytest.mark.parametrize("name,job", JOB_LIST, ids=[name for name, _ in JOB_LIST])
def test_container_job_validates(tmp_path, name, job):
    device = device_for(str(job.get("device_type")), tmp_path)
    valid, errors = validate(tmp_path, job, device)
    if valid:
        return
    # only blocks of methods outside this area may be refused: by path (actions[N]) or level (N+1 name:)
    refused = {int(p) for p in re.findall(r"actions\[(\d+)\]", errors)}
    refused |= {int(level) - 1 for level in re.findall(r"(?:: |; )(\d+)(?:\.\d+)* [a-z0-9-]+: ", errors)}
    assert refused, f"{name}: {errors}"
    assert not refused & set(container_blocks(job)), f"{name}: a container block was refused: {errors}"
    pytest.xfail(f"{name}: another area's block is refused: {errors[:300]}")
