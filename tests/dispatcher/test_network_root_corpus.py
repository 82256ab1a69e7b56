"""The reference's sample jobs that put a root filesystem on the network pass ``lava-run --validate``.

In scope: ``to: nfs``, ``to: nbd``, ``nfsrootfs`` in ``to: tftp``, ``boot: qemu-nfs``
and the U-Boot ``nfs``/``nbd`` command lists. Each job runs against a device
rendered from our templates: a corpus dictionary of its device type when there
is one, else a bare ``{% extends 'TYPE.jinja2' %}``. Jobs that also need a
method this branch does not have are listed with that reason (``-s`` prints
the survey); they are somebody else's to make pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lava_dispatcher.registry import METHODS
from lava_scheduler.device_config import render_device_config

from .helpers import CORPUS, REPO, run_lava

JOBS = CORPUS / "jobs"
# refused on purpose, or waiting for another part of the dispatcher
REFUSED = {
    "jobs/dispatcher/x15-nfs.yaml": "a docker test shell (test: docker:), not in this branch",
    "jobs/docs/bbb-2serial.yaml": "its board needs a second UART in the dictionary: test_ssh_corpus.py covers it",
}
DICTIONARIES = CORPUS / "device-dictionaries"
# samples of the reference's unit tests, which run them on another device than the job's type
UNIT_TEST_DEVICES = {"jobs/dispatcher/depthcharge.yaml": "rk3288-veyron-jaq",
                     "jobs/dispatcher/depthcharge_commands_override.yaml": "rk3288-veyron-jaq"}


def _network_root(job: dict) -> bool:
    for action in job.get("actions") or []:
        block = next(iter(action.values())) if isinstance(action, dict) and action else {}
        if not isinstance(block, dict):
            continue
        if block.get("to") in ("nfs", "nbd") or "nfsrootfs" in block or block.get("method") == "qemu-nfs":
            return True
        if block.get("method") == "u-boot" and block.get("commands") in ("nfs", "nbd"):
            return True
    return False


def _secondary_media(job: dict) -> bool:
    """A deploy to a USB stick, SATA disk or SD card: only a dictionary naming that disk takes it."""
    return any(isinstance(action, dict) and (action.get("deploy") or {}).get("to") in ("usb", "sata", "sd")
               for action in job.get("actions") or [])


def _missing_methods(job: dict) -> list[str]:
    """The job's deploy targets and boot methods that no registered method handles."""
    known = {
        "deploy": {m.name for m in METHODS["deploy"]},
        "boot": {m.name for m in METHODS["boot"]},
    }
    missing = []
    for action in job.get("actions") or []:
        for section, block in action.items():
            key = {"deploy": "to", "boot": "method"}.get(section)
            if key and isinstance(block, dict) and block.get(key) not in known[section]:
                missing.append(f"{section} {key}: {block.get(key)}")
    return missing


def corpus_jobs() -> list[tuple[str, dict]]:
    verdicts = json.loads((JOBS / "verdicts.json").read_text())
    found = []
    for name, verdict in sorted(verdicts.items()):
        if verdict.get("reference_verdict") != "valid":
            continue
        job = yaml.safe_load((CORPUS / name).read_text())
        if isinstance(job, dict) and "device_type" in job and _network_root(job):
            found.append((name, job))
    return found


# what every real board's dictionary has, and a bare one lacks
WIRING = """{% set connection_command = 'telnet localhost 7000' %}
{% set hard_reset_command = 'pduclient --command reboot' %}
{% set power_off_command = 'pduclient --command off' %}
{% set power_on_command = 'pduclient --command on' %}
"""

# a worker whose admin set up a bridge for QEMU's bridge helper
QEMU_TAP = "\n{% set tap_bridge = 'lavabr0' %}\n"


def dictionary_for(device_type: str) -> str:
    """A corpus dictionary of the type, else a bare one; both wired to a console and a PDU when they are not."""
    text = f"{{% extends '{device_type}.jinja2' %}}\n"
    for path in sorted(DICTIONARIES.glob("*.jinja2")):
        if f"{{% extends '{device_type}.jinja2' %}}" in path.read_text():
            text = path.read_text()
            break
    if device_type == "qemu":
        text += QEMU_TAP  # qemu-nfs.yaml asks for netdevice: tap
    if "connection_command" not in text and "connection_list" not in text:
        text += WIRING.splitlines()[0] + "\n"
    if "power_on_command" not in text and "hard_reset_command" not in text:
        text += "\n".join(WIRING.splitlines()[1:]) + "\n"
    return text


def survey(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    passed, left_out = [], {}
    for name, job in corpus_jobs():
        if name in REFUSED:
            left_out[name] = REFUSED[name]
            continue
        if _secondary_media(job):
            left_out[name] = "writes secondary media: test_secondary_media_corpus.py validates it with a board that has them"
            continue
        missing = _missing_methods(job)
        if job.get("protocols", {}).get("lava-multinode"):
            missing.append("MultiNode")
        if missing:
            left_out[name] = "needs " + ", ".join(missing) + " (not in this branch)"
            continue
        folder = tmp_path / name.replace("/", "_")
        folder.mkdir()
        device_type = UNIT_TEST_DEVICES.get(name, job["device_type"])
        try:
            config = render_device_config(f"{device_type}-01", dictionary_for(device_type),
                                          job_context=job.get("context"), device_types_paths=[REPO / "device-types"])
        except Exception as exc:  # noqa: BLE001 - a template that does not render is a finding of the survey
            left_out[name] = f"device type {job['device_type']} does not render: {exc}"
            continue
        device = folder / "device.yaml"
        device.write_text(yaml.safe_dump(config))
        proc, _, _ = run_lava(folder, CORPUS / name, device, "--validate", timeout=60)
        if proc.returncode == 0:
            passed.append(name)
        else:
            errors = [line for line in proc.stderr.splitlines() if '"error"' in line]
            left_out[name] = f"FAILS: {(errors or [proc.stderr[-300:]])[-1][:300]}"
    return passed, left_out


@pytest.mark.skipif(not (JOBS / "verdicts.json").is_file(), reason="the reference corpus is not checked out beside the repo")
def test_network_root_corpus_jobs_validate(tmp_path):
    passed, left_out = survey(tmp_path)
    print(f"\nnetwork-root corpus jobs: {len(passed)} validate, {len(left_out)} left out")
    for name in passed:
        print(f"  ok    {name}")
    for name, reason in left_out.items():
        print(f"  left  {name}: {reason}")
    failures = {name: reason for name, reason in left_out.items() if reason.startswith("FAILS")}
    assert not failures, failures
    assert len(passed) >= 17
