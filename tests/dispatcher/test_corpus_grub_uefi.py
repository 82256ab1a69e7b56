"""The reference's sample jobs that boot with grub, grub-efi, uefi-menu or uefi pass ``lava-run --validate``.

Each job is validated against a device rendered from our templates: the
corpus dictionary of its device type when there is one, else a bare
``{% extends %}``; a dictionary without console and power lines gets a lab's
(every real device has them). Jobs left out need what another part of the
dispatcher brings (``LEFT_OUT`` says what); they are listed, not failed, so
they count as soon as that lands. Skips without the corpus.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import yaml

from lava_dispatcher.cli import build_parser, run
from lava_scheduler.device_config.render import render_device_yaml

from .helpers import CORPUS

METHODS = {"grub", "grub-efi", "uefi-menu", "uefi"}
LAB_LINES = """
{% set connection_command = 'telnet localhost 7001' %}
{% set power_on_command = 'pduclient --daemon lab-pdu --port 1 --command on' %}
{% set power_off_command = 'pduclient --daemon lab-pdu --port 1 --command off' %}
{% set hard_reset_command = 'pduclient --daemon lab-pdu --port 1 --command reboot' %}
"""
LEFT_OUT = {
    "dispatcher/grub-nfs.yaml": "deploy to: tftp with nfsrootfs (NFS root)",
    "dispatcher/mustang-menu-ramdisk.yaml": "deploy to: tftp with nfsrootfs (NFS root)",
    "server/mustang-menu-ramdisk.yaml": "deploy to: tftp with nfsrootfs (NFS root)",
    "dispatcher/hi6220-recovery.yaml": "deploy to: recovery / fastboot",
    "dispatcher/hikey-console.yaml": "deploy to: fastboot",
    "dispatcher/hikey-grub.yaml": "deploy to: fastboot",
    "dispatcher/hikey960-oe.yaml": "deploy to: fastboot",
    "docs/hi6220-hikey-bl.yaml": "deploy to: recovery / fastboot",
    "docs/hikey-new-connection.yaml": "deploy to: fastboot",
    "docs/hikey-oe.yaml": "deploy to: fastboot",
    "dispatcher/juno-uefi-nfs-no-menu.yaml": "deploy to: vemsd, boot method uefi (UEFI shell)",
    "dispatcher/juno-uefi-nfs.yaml": "deploy to: vemsd, boot method uefi (UEFI shell)",
    "dispatcher/juno-uefi-tftp.yaml": "deploy to: vemsd",
    "dispatcher/tc2.yaml": "deploy to: vemsd",
    "dispatcher/mustang-secondary-media.yaml": "deploy to: sata (secondary media)",
    "dispatcher/n1sdp-fw-grub-ramdisk.yaml": "deploy to: flasher",
    "server/grub-nbd.yaml": "deploy to: nbd",
    "docs/mustang-ssh-guest.yaml": "a MultiNode job (validated per role by the MultiNode tests)",
    "server/mustang-ssh-multinode.yaml": "a MultiNode job (validated per role by the MultiNode tests)",
}


def corpus_jobs() -> list[Path]:
    jobs = CORPUS / "jobs"
    if not jobs.is_dir():
        return []
    found = []
    for path in sorted(jobs.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        blocks = data.get("actions") if isinstance(data, dict) else None
        methods = {a["boot"].get("method") for a in blocks or [] if isinstance(a, dict) and isinstance(a.get("boot"), dict)}
        if methods & METHODS:
            found.append(path)
    return found


def dictionary_for(device_type: str) -> str:
    for path in sorted((CORPUS / "device-dictionaries").glob("*.jinja2")):
        text = path.read_text()
        if re.search(rf"extends '{re.escape(device_type)}\.jinja2'", text):
            break
    else:
        text = f"{{% extends '{device_type}.jinja2' %}}\n"
    return text if "connection_command" in text else text + LAB_LINES


# left-out jobs whose other boot blocks also need another part (the rest validate without their deploys)
BOOT_ALSO_NEEDS = {
    "dispatcher/hi6220-recovery.yaml": "boot method recovery",
    "docs/hi6220-hikey-bl.yaml": "boot method recovery",
    "dispatcher/hikey-console.yaml": "boot method fastboot",
    "docs/hikey-new-connection.yaml": "boot method fastboot",
    "dispatcher/n1sdp-fw-grub-ramdisk.yaml": "boot method new_connection",
    "dispatcher/mustang-secondary-media.yaml": "GRUB's sata commands, which need the sata deploy's {ROOT}",
}


def without_other_parts(job: Path, tmp_path: Path) -> Path:
    """The job without the deploys another part brings (and the tests that need them)."""
    data = yaml.safe_load(job.read_text())
    kept = []
    for block in data["actions"]:
        if "test" in block or ("deploy" in block and block["deploy"].get("to") != "tftp"):
            continue
        if "deploy" in block:
            block["deploy"].pop("nfsrootfs", None)
        kept.append(block)
    data["actions"] = kept
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def validate(job: Path, tmp_path: Path) -> tuple[bool, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    device_type = yaml.safe_load(job.read_text())["device_type"]
    device = tmp_path / "device.yaml"
    device.write_text(render_device_yaml(f"{device_type}-01", dictionary_for(device_type)))
    out = tmp_path / "out"
    args = build_parser().parse_args(["--job-id", "1", "--output-dir", str(out), "--device", str(device),
                                      "--validate", str(job)])
    with contextlib.redirect_stderr(io.StringIO()):
        code = run(args)
    return code == 0, str(yaml.safe_load((out / "result.yaml").read_text()).get("error_msg", ""))


JOBS = corpus_jobs()


@pytest.mark.skipif(not JOBS, reason="the corpus of sample jobs is not available")
def test_corpus_jobs_with_grub_and_uefi_validate(tmp_path, capsys):
    passed, failed, left_out = [], {}, {}
    for job in JOBS:
        name = str(job.relative_to(CORPUS / "jobs"))
        if name in LEFT_OUT and "MultiNode" in LEFT_OUT[name]:
            left_out[name] = LEFT_OUT[name]
            continue
        ok, error = validate(job, tmp_path / name.replace("/", "-"))
        if ok:
            passed.append(name)
        elif name in LEFT_OUT:
            left_out[name] = f"{LEFT_OUT[name]}: {error[:160]}"
        else:
            failed[name] = error
    with capsys.disabled():
        print(f"\ngrub/grub-efi/uefi-menu/uefi corpus jobs: {len(passed)} of {len(JOBS)} validate, "
              f"{len(left_out)} left out, {len(failed)} failed")
        for name, reason in sorted(left_out.items()):
            print(f"  left out {name}: {reason}")
    assert not failed, failed


@pytest.mark.skipif(not JOBS, reason="the corpus of sample jobs is not available")
def test_the_boot_blocks_of_left_out_jobs_validate_once_their_deploys_are_set_aside(tmp_path):
    checked, failed = 0, {}
    for job in JOBS:
        name = str(job.relative_to(CORPUS / "jobs"))
        if name not in LEFT_OUT or "MultiNode" in LEFT_OUT[name] or name in BOOT_ALSO_NEEDS:
            continue
        work = tmp_path / name.replace("/", "-")
        work.mkdir()
        ok, error = validate(without_other_parts(job, work), work)
        checked += 1
        if not ok:
            failed[name] = error
    expected = [n for n, why in LEFT_OUT.items() if "MultiNode" not in why and n not in BOOT_ALSO_NEEDS]
    assert checked == len(expected) and not failed, failed
