"""The reference's sample jobs that use ssh devices, schroot, new_connection or secondary connections, through
``lava-run --validate`` with devices rendered from our templates and the corpus dictionaries.

Each job is listed with what we expect: valid, or refused for a reason outside this area (the test keeps
the list honest: a job that starts validating, or is refused for another reason, fails it).
Skips when ../shared/corpus is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lava_scheduler.device_config.minimise import minimised_config
from lava_scheduler.device_config.render import render_device_yaml
from lava_scheduler.jobs.multinode import split_multinode

from .helpers import CORPUS, job_result, run_lava

SECOND_UART = ("{% set connection_list = ['NAME'] %}"
               "{% set connection_commands = {'NAME': 'telnet localhost 7002'} %}")
# a QEMU or board host whose guests log in over ssh: the key the worker installs and uses
GUEST_KEY = "{% set ssh_identity_file = '/etc/lava-dispatcher/dynamic_vm_keys/lava' %}"
# a guest's deploy carries an action-level MultiNode request (prepare-scp-overlay / api: lava-wait) that gives
# the host's address: the guests validate

# job -> (corpus dictionary, extra dictionary lines, None when valid or a part of the refusal)
SINGLE_NODE = {
    # device type intel1521 has no template here; the job is adapted to our ssh device type
    "dispatcher/primary-ssh.yaml": ("ssh-host-01", "", None),
    "dispatcher/ssh-boot.yaml": ("ssh-host-01", "", None),
    "dispatcher/ssh-deploy.yaml": ("ssh-host-01", "", None),
    "docs/bbb-2serial.yaml": ("bbb-01", SECOND_UART.replace("NAME", "uart1"), None),
    "docs/hikey-new-connection.yaml": ("hi6220-hikey-01", SECOND_UART.replace("NAME", "uart0"), None),
    "dispatcher/hikey-console.yaml": ("hi6220-hikey-01", SECOND_UART.replace("NAME", "uart0"), None),
    # already-split sub-jobs of the reference (not submissions): their group does not match their roles
    "dispatcher/bbb-ssh-guest.yaml": ("bbb-01", GUEST_KEY, "protocols.lava-multinode"),
    "server/qemu-ssh-guest-1.yaml": ("qemu01", GUEST_KEY, "protocols.lava-multinode"),
    "server/qemu-ssh-guest-2.yaml": ("qemu01", GUEST_KEY, "protocols.lava-multinode"),
}
# MultiNode submissions: split as the server does; each role validated on the host role's device (minimised
# for the guests)
MULTINODE = {
    "server/qemu-ssh-guest.yaml": ("qemu01", {
        "host": None,  # a disk image carrying the overlay
        "guest": None,
    }),
    "server/mustang-ssh-multinode.yaml": ("mustang1", {
        "host": None,
        "guest": None,
    }),
    "docs/mustang-ssh-guest.yaml": ("mustang1", {
        "host": None,
        "guest": None,
    }),
}


def _corpus() -> Path:
    if not (CORPUS / "jobs").is_dir():
        pytest.skip(f"the corpus is not here ({CORPUS})")
    return CORPUS


def _device(tmp_path: Path, dictionary: str, extra: str) -> Path:
    text = (_corpus() / "device-dictionaries" / f"{dictionary}.jinja2").read_text() + extra
    path = tmp_path / f"{dictionary}.yaml"
    path.write_text(render_device_yaml(dictionary, text))
    return path


def _outcome(tmp_path: Path, job: dict, device: Path) -> str | None:
    proc, records, _ = run_lava(tmp_path, job, device, "--validate")
    return None if proc.returncode == 0 else job_result(records).get("error_msg", proc.stderr[-500:])


@pytest.mark.parametrize("name", sorted(SINGLE_NODE))
def test_single_node_job(tmp_path, name):
    dictionary, extra, refused = SINGLE_NODE[name]
    job = yaml.safe_load((_corpus() / "jobs" / name).read_text())
    outcome = _outcome(tmp_path, job, _device(tmp_path, dictionary, extra))
    if refused is None:
        assert outcome is None, outcome
    else:
        assert outcome is not None and refused in outcome, outcome


@pytest.mark.parametrize("name", sorted(MULTINODE))
def test_multinode_roles(tmp_path, name):
    dictionary, refusals = MULTINODE[name]
    sub_jobs = split_multinode(yaml.safe_load((_corpus() / "jobs" / name).read_text()))
    device = _device(tmp_path, dictionary, GUEST_KEY)
    for index, sub_job in enumerate(sub_jobs):
        job = sub_job.definition
        others = [other.role for position, other in enumerate(sub_jobs) if position != index]
        # the server writes the group's roles by job id; lava-run runs as job 1
        job["protocols"]["lava-multinode"]["roles"] = {"1": sub_job.role,
                                                       **{str(k + 2): role for k, role in enumerate(others)}}
        run_dir = tmp_path / str(index)
        run_dir.mkdir()
        # a guest runs with its host's device minimised, as the server hands it to the host's worker
        guest_device = run_dir / "minimised.yaml"
        guest_device.write_text(yaml.safe_dump(minimised_config(yaml.safe_load(device.read_text()))))
        outcome = _outcome(run_dir, job, guest_device if "host_role" in job else device)
        expected = refusals[sub_job.role]
        if expected is None:
            assert outcome is None, f"{sub_job.role}: {outcome}"
            continue
        assert outcome is not None and expected in outcome, f"{sub_job.role}: {outcome}"
