#!/usr/bin/env python3
"""Which of the reference's sample jobs our dispatcher accepts: ``lava-run --validate`` on each.

    .venv/bin/python share/corpus-coverage.py [--corpus ../shared/corpus] [--verbose]

For every job the reference calls valid (``jobs/verdicts.json``), MultiNode
submissions split into their sub-jobs as the server does, a device of the
job's type is rendered from our templates (a corpus dictionary of that type
when there is one, else the type's template) with what an admin adds to a board
the sample dictionaries leave bare: a console and power commands, a QEMU
worker's tap bridge, the reference labs' ``bbb`` alias. ``lava-run --validate``
runs on it as a separate process, as a worker would run it (the documentation's ``__FQDN__``
placeholder read as a file server's URL). Prints one line per job that fails with its first error,
then the counts by reason.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from lava_scheduler.device_config import DeviceConfigError, render_device_yaml  # noqa: E402
from lava_scheduler.device_config.minimise import minimised_config  # noqa: E402
from lava_scheduler.jobs.multinode import split_multinode  # noqa: E402

LAVA_RUN = [sys.executable, "-m", "lava_dispatcher.cli"]
# what an admin adds to a type's template for a board of that type: its console and its power
BARE_DICTIONARY = """{{% extends '{device_type}.jinja2' %}}
{{% set connection_command = 'telnet localhost 7000' %}}
{{% set power_on_command = 'pduclient --daemon pdu --hostname pdu --port 1 --command on' %}}
{{% set power_off_command = 'pduclient --daemon pdu --hostname pdu --port 1 --command off' %}}
{{% set hard_reset_command = 'pduclient --daemon pdu --hostname pdu --port 1 --command reboot' %}}
"""
# what the reference's labs declare as device-type aliases (scheduler.aliases): the corpus's bbb-*
# dictionaries are beaglebone-black boards, and a submission for 'bbb' runs on one of them
ALIASES = {"bbb": "beaglebone-black"}
# samples written for the reference's unit tests, which run them on another device than the job's type
UNIT_TEST_DEVICES = {"depthcharge.yaml": "rk3288-veyron-jaq", "depthcharge_commands_override.yaml": "rk3288-veyron-jaq"}
_EXTENDS = re.compile(r"{%\s*extends\s+['\"]([^'\"]+)\.jinja2['\"]")
_CONSOLE_SET = re.compile(r"{%-?\s*set\s+(connection_command|connection_list)\b")
_POWER_SET = re.compile(r"{%-?\s*set\s+(power_on_command|hard_reset_command)\b")
# boards reached another way than a serial line and a PDU: a program on the worker, adb, ssh
_NO_SERIAL_TYPES = {"qemu", "docker", "lxc", "fvp", "avh", "ssh"}
_TAP_SET = re.compile(r"{%-?\s*set\s+(tap_bridge|tap_interface)\b")
# a worker with a bridge for QEMU's bridge helper (/etc/qemu/bridge.conf allows it)
QEMU_TAP_LINE = "{% set tap_bridge = 'lavabr0' %}"
_NO_SERIAL_SET = re.compile(r"{%-?\s*set\s+(adb_serial_number|ssh_host)\b")

# the documentation's __FQDN__ (its lab's file server): any server stands for it
FILE_SERVER = "http://files.lab.example"


def with_admin_lines(device_type: str, dictionary: str) -> str:
    """A corpus dictionary with the console and power an admin gives a board on a serial line.

    The reference's sample dictionaries often leave them out (its tests add them). Only those
    are added, and a QEMU worker's tap bridge: a second console the job names (``connection:
    uart1``) or any other setting is not, so when the job needs it, the dictionary is what fails.
    """
    if device_type == "qemu" and not _TAP_SET.search(dictionary):
        dictionary += "\n" + QEMU_TAP_LINE  # for the jobs that ask for netdevice: tap
    if device_type in _NO_SERIAL_TYPES or _NO_SERIAL_SET.search(dictionary):
        return dictionary + "\n"
    lines = BARE_DICTIONARY.format(device_type="").splitlines()[1:]
    if not _CONSOLE_SET.search(dictionary):
        dictionary += "\n" + "\n".join(line for line in lines if "connection_command" in line)
    if not _POWER_SET.search(dictionary):
        dictionary += "\n" + "\n".join(line for line in lines if "connection_command" not in line)
    return dictionary + "\n"


def dictionaries_by_type(corpus: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((corpus / "device-dictionaries").glob("*.jinja2")):
        text = path.read_text(encoding="utf-8")
        match = _EXTENDS.search(text)
        if match:
            found.setdefault(match.group(1), []).append(text)
    return found


def definitions(path: Path, file_server: str | None = None) -> list[tuple[str, dict, str | None]]:
    """(label, definition, host device type) of the job, or of each sub-job of a MultiNode submission;
    the host device type is a secondary connection's (its role logs in to that role's board)."""
    text = path.read_text(encoding="utf-8")
    if file_server:  # the reference's documentation writes its file server as __FQDN__, filled in when the docs are built
        text = text.replace("__FQDN__", file_server)
    data = yaml.safe_load(text)
    multinode = (data.get("protocols") or {}).get("lava-multinode") or {}
    if "roles" not in multinode:
        return [(path.name, data, None)]
    sub_jobs = split_multinode(data)
    # what the scheduler adds when the whole group has its devices: job id -> role
    roles = {str(index + 1): sub.role for index, sub in enumerate(sub_jobs)}
    device_types = {sub.role: sub.definition.get("device_type") for sub in sub_jobs}
    for sub in sub_jobs:
        sub.definition["protocols"]["lava-multinode"]["roles"] = roles
    return [(f"{path.name}[{sub.role}]", sub.definition, device_types.get(sub.definition.get("host_role")))
            for sub in sub_jobs]


def check(label: str, definition: dict, host_type: str | None, dictionaries: dict[str, list[str]],
          work: Path) -> tuple[str, str | None]:
    """The job on each corpus board of its type in turn (a lab has boards with and without a USB
    stick...): valid when one board takes it, else the first board's error. A secondary connection
    runs on its host's board minimised, as the server hands it over."""
    device_type = str(definition.get("device_type") or host_type or "")
    device_type = UNIT_TEST_DEVICES.get(label, ALIASES.get(device_type, device_type))
    if not device_type:
        return label, "a role without a device type whose host role has none either"
    boards = [with_admin_lines(device_type, text) for text in dictionaries.get(device_type, [])]
    first_error = None
    for dictionary in boards or [BARE_DICTIONARY.format(device_type=device_type)]:
        error = validate_on(dictionary, device_type, definition, work, minimise=host_type is not None)
        if error is None:
            return label, None
        first_error = first_error or error
    return label, first_error


def validate_on(dictionary: str, device_type: str, definition: dict, work: Path, minimise: bool = False) -> str | None:
    folder = Path(tempfile.mkdtemp(dir=work))
    try:
        device = render_device_yaml("corpus-device", dictionary, definition.get("context"))
    except DeviceConfigError as exc:
        return f"device type {device_type!r}: {str(exc).splitlines()[0]}"
    if minimise:
        device = yaml.safe_dump(minimised_config(yaml.safe_load(device)))
    (folder / "device.yaml").write_text(device)
    (folder / "job.yaml").write_text(yaml.safe_dump(definition))
    result = subprocess.run([*LAVA_RUN, "--validate", "--job-id", "1", "--output-dir", str(folder / "out"),
                             "--device", str(folder / "device.yaml"), str(folder / "job.yaml")],
                            capture_output=True, text=True, cwd=REPO)
    if result.returncode == 0:
        return None
    result_file = folder / "out" / "result.yaml"
    outcome = (yaml.safe_load(result_file.read_text()) if result_file.exists() else None) or {}
    error = str(outcome.get("error_msg") or "".join(result.stderr.strip().splitlines()[-1:]) or "failed")
    missing = re.match(r"actions\[(\d+)\]\.(\w+): no method accepts this block", error)
    if missing:
        (section, block), = definition["actions"][int(missing.group(1))].items()
        wanted = block.get("to") or block.get("method") or next(iter(block), "?") if isinstance(block, dict) else "?"
        return f"{section}: no method {wanted!r} on {device_type}"
    return error


def reason_key(error: str) -> str:
    """The error without the job's own values, to count alike failures together."""
    error = re.sub(r" on [\w.-]+$", "", error) if ": no method " in error else error
    return re.sub(r"actions\[\d+\]", "actions[N]", error)[:110]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--verbose", action="store_true", help="print every job, passing ones too")
    args = parser.parse_args()
    verdicts = json.loads((args.corpus / "jobs" / "verdicts.json").read_text())
    dictionaries = dictionaries_by_type(args.corpus)
    jobs = [label_def for name, verdict in sorted(verdicts.items()) if verdict["reference_verdict"] == "valid"
            for label_def in definitions(args.corpus / name, FILE_SERVER)]
    with tempfile.TemporaryDirectory() as work, ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda item: check(*item, dictionaries, Path(work)), jobs))
    reasons: Counter[str] = Counter()
    for label, error in outcomes:
        if error:
            reasons[reason_key(error)] += 1
        if error or args.verbose:
            print(f"{label}: {error or 'valid'}")
    passed = sum(1 for _, error in outcomes if error is None)
    print(f"\nlava-run --validate accepts {passed} of {len(outcomes)} jobs and sub-jobs "
          f"({sum(1 for v in verdicts.values() if v['reference_verdict'] == 'valid')} valid files)")
    for reason, count in reasons.most_common():
        print(f"{count:4}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
