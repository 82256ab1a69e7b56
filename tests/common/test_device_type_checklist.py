"""device-types/checklist.yaml: well formed, one entry per type, and every `done` is true.

Run with -s to see the library's state as one table.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lava_scheduler.device_config import list_device_types

REPO = Path(__file__).resolve().parents[2]
DEVICE_TYPES = REPO / "device-types"
CHECKLIST = DEVICE_TYPES / "checklist.yaml"
ITEMS = ("template test", "peer test", "health check", "sample job", "docs page")
# modules that only render templates: naming a type there is a template test, not a peer test
RENDER_ONLY_TESTS = {"test_device_templates.py", "test_device_templates_library.py", "test_device_type_checklist.py"}
# a peer test needs its peer to run: it looks for the QEMU binary it starts, or starts a live lab
STARTS_A_PEER = re.compile(r"shutil\.which\([\"']qemu-system|require_qemu|LiveLab|virtual_lab")


def checklist_problems(checklist: Any, types: list[str]) -> list[str]:
    """Every malformed entry of a parsed checklist, as 'type.item: reason'."""
    if not isinstance(checklist, dict):
        return ["checklist.yaml: expected a mapping of device type -> items"]
    problems = [f"{name}: no template device-types/{name}.jinja2" for name in checklist if name not in types]
    problems += [f"{name}: no entry" for name in types if name not in checklist]
    for name, entry in checklist.items():
        if not isinstance(entry, dict):
            problems.append(f"{name}: expected a mapping of the items {', '.join(ITEMS)}")
            continue
        problems += [f"{name}.{item}: missing" for item in ITEMS if item not in entry]
        problems += [f"{name}.{item}: unknown item" for item in entry if item not in ITEMS]
        for item, state in entry.items():
            if item in ITEMS and state_problem(state):
                problems.append(f"{name}.{item}: {state_problem(state)}")
    return problems


def state_problem(state: Any) -> str | None:
    if state in ("done", "todo"):
        return None
    if isinstance(state, dict) and list(state) == ["exempt"]:
        reason = state["exempt"]
        return None if isinstance(reason, str) and reason.strip() else "exempt needs a reason"
    return f"expected done, todo or exempt: <reason>, got {state!r}"


def state_label(state: Any) -> str:
    return "exempt" if isinstance(state, dict) else state


def evidence_missing(name: str, item: str) -> str | None:
    """Why `item: done` is not true for the type, or None when it is."""
    template = f"{name}.jinja2"
    if item == "template test":
        found = any(template in p.read_text() for p in (REPO / "tests" / "common").glob("test_device_templates*.py"))
        return None if found or name in _methods_table() else f"no test in tests/common names {template}"
    if item == "peer test":
        for path in (REPO / "tests").rglob("test_*.py"):
            if path.name in RENDER_ONLY_TESTS:
                continue
            text = path.read_text()
            if template in text and STARTS_A_PEER.search(text):
                return None
        return f"no test module both names {template} and starts a peer"
    if item == "health check":
        path = REPO / "share" / "health-checks" / f"{name}.yaml"
        return None if path.is_file() else f"{path.relative_to(REPO)} does not exist"
    if item == "sample job":
        pattern = re.compile(rf"^device_type:\s*['\"]?{re.escape(name)}['\"]?\s*$", re.MULTILINE)
        jobs = (REPO / "share" / "lab" / "jobs").glob("*.yaml")
        return None if any(pattern.search(p.read_text()) for p in jobs) else "no job in share/lab/jobs for it"
    readme = (DEVICE_TYPES / "README.md").read_text()
    return None if f"`{name}`" in readme else "device-types/README.md does not list it"


def _methods_table() -> set[str]:
    # the library test checks each type's methods from one table: that is its template test
    text = (REPO / "tests" / "common" / "test_device_templates_library.py").read_text()
    return set(re.findall(r'^    "([^"]+)": \(\{', text, re.MULTILINE))


def load_checklist() -> Any:
    return yaml.safe_load(CHECKLIST.read_text())


def test_checklist_is_well_formed() -> None:
    assert checklist_problems(load_checklist(), list_device_types([DEVICE_TYPES])) == []


def test_every_done_is_true(capsys: pytest.CaptureFixture[str]) -> None:
    checklist = load_checklist()
    false_done = [f"{name}.{item}: {why}" for name, entry in checklist.items() for item, state in entry.items()
                  if state == "done" and (why := evidence_missing(name, item))]
    width = max(len(name) for name in checklist)
    lines = [f"{'type'.ljust(width)}  " + "  ".join(f"{item:13}" for item in ITEMS)]
    lines += [f"{name.ljust(width)}  " + "  ".join(f"{state_label(entry[item]):13}" for item in ITEMS)
              for name, entry in sorted(checklist.items())]
    totals = {item: sum(1 for entry in checklist.values() if entry[item] == "done") for item in ITEMS}
    lines.append(f"{'done':{width}}  " + "  ".join(f"{totals[item]:<13}" for item in ITEMS))
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert false_done == []


@pytest.mark.parametrize(
    ("checklist", "expected"),
    [
        ("[a, b]", "checklist.yaml: expected a mapping"),
        ("qemu: done", "qemu: expected a mapping"),
        ("qemu: {template test: done}", "qemu.peer test: missing"),
        ("qemu: {template test: yes}", "qemu.template test: expected done, todo or exempt: <reason>, got True"),
        ("qemu: {peer test: {exempt: ''}}", "qemu.peer test: exempt needs a reason"),
        ("qemu: {peer tests: done}", "qemu.peer tests: unknown item"),
        ("nosuch: {}", "nosuch: no template device-types/nosuch.jinja2"),
    ],
)
def test_malformed_entries_are_named(checklist: str, expected: str) -> None:
    problems = checklist_problems(yaml.safe_load(checklist), ["qemu"])
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_false_done_is_caught() -> None:
    assert evidence_missing("beaglebone-black", "health check") == "share/health-checks/beaglebone-black.yaml does not exist"
    assert evidence_missing("beaglebone-black", "peer test") is not None
    assert evidence_missing("beaglebone-black", "sample job") is not None
    assert evidence_missing("no-such-type", "docs page") is not None
    assert evidence_missing("qemu-uboot-arm64", "peer test") is None
