"""A MultiNode group: every role's lava-run at once with our coordinator; a secondary-connection role on its
host role's device."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

# tests/coordinator_daemon.py: on sys.path by corpus_run/__init__.py
from coordinator_daemon import Daemon

from corpus_run.adapt import adapt, adapt_job
from corpus_run.left_out import LeftOut
from corpus_run.running import Outcome, finish, job_timeout, lava_run
from lava_scheduler.device_config.minimise import minimised_config


def ssh_host_device(device: dict, folder: Path) -> dict:
    """A host role's board as a lab's dictionary gives it to its secondary connections: the worker's key
    (made here), root, port 22, the usual ssh options. The address is whatever the host's test sends."""
    key = folder / "worker-key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    options = ["-o", "PasswordAuthentication=no", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    device["actions"]["deploy"]["methods"]["ssh"] = {"identity_file": str(key), "user": "root", "port": 22,
                                                     "host": "", "options": options}
    return device


def adapt_guest(job: dict, folder: Path, repo: Path, timeout_factor: float, host: tuple[dict, dict]) -> tuple[dict, dict, list[str]]:
    """A secondary-connection sub-job: adapted as a job on its host's board, run with the host device's
    configuration minimised (what the server hands the host's worker)."""
    host_job, host_device = host
    shaped = {**job, "device_type": host_job.get("device_type"), "context": host_job.get("context") or {}}
    adapted, notes = adapt_job(shaped, folder, repo, timeout_factor)
    for key in ("device_type", "context"):
        if key not in job:
            adapted.pop(key, None)
    return adapted, minimised_config(host_device), [*notes, "device: the host role's, minimised"]


def run_group(name: str, subs: list[tuple[str, dict]], work: Path, repo: Path, coordinator: Path,
              timeout_factor: float = 1) -> list[Outcome]:
    """Every role of a MultiNode group at once, each its own lava-run (and QEMU, a role with a device), one
    coordinator. A secondary-connection role (host_role) runs on its host role's device, minimised."""
    prepared: list[Any] = [None] * len(subs)
    hosts: dict[str, tuple[dict, dict]] = {}
    # the roles with a device first: a guest's device is its host's
    for index in sorted(range(len(subs)), key=lambda i: "host_role" in subs[i][1]):
        label, job = subs[index]
        folder = work / f"role-{index}"
        folder.mkdir()
        role = job["protocols"]["lava-multinode"]["role"]
        try:
            if "host_role" in job:
                if job["host_role"] not in hosts:
                    raise LeftOut(f"host_role {job['host_role']!r}: no role of the group with a device by that name")
                adapted, device, notes = adapt_guest(job, folder, repo, timeout_factor, hosts[job["host_role"]])
            else:
                adapted, device, notes = adapt(job, folder, repo, timeout_factor)
                if any(other.get("host_role") == role for _, other in subs):
                    device = ssh_host_device(device, folder)
                hosts[role] = (adapted, device)
        except LeftOut as exc:
            return [Outcome(sub_label, "left out", f"{label}: {exc}") for sub_label, _ in subs]
        adapted["protocols"]["lava-multinode"]["target_group"] = f"corpus-run-{os.getpid()}-{name}"
        prepared[index] = (label, folder, adapted, device, notes)
    procs = [(label, folder, lava_run(folder, adapted, device, str(index + 1), coordinator), notes)
             for index, (label, folder, adapted, device, notes) in enumerate(prepared)]
    outcomes = []
    for label, folder, proc, notes in procs:
        state, detail = finish(proc, folder, job_timeout(prepared[0][2]))
        outcomes.append(Outcome(label, state, "; ".join([detail, *notes]).strip("; ")))
    return outcomes


class Coordinator:
    """Our lava-coordinator (tests/coordinator_daemon.py's daemon) on a free port, for the run's groups."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.daemon = Daemon(folder)
        self.daemon.start()
        self.config = self.daemon.config_for_clients(folder / "clients.conf")

    def stop(self) -> None:
        self.daemon.stop()
