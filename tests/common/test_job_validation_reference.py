"""Our job validator against the reference's rules, on every valid corpus job and variants of it.

Each variant carries the verdict the reference gives it, as recorded in
``../shared/spec/lava-reference.md`` §4 (and, where issue 11 found the digest
wrong by comparing verdicts: timeout units add up, ``repeat`` goes with
``failure_retry``, unknown top-level keys are accepted). A variant on which
we differ must name a rule in ``DIFFERENCES``, each explained in
``doc/job-validation.md``. Run this file directly for the agreement table::

    PYTHONPATH=. .venv/bin/python tests/common/test_job_validation_reference.py
"""

import copy
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from lava_common.schemas import JobSchemaError, validate_job
from lava_common.timeouts import timeout_seconds
from lava_common.yaml_loader import load_yaml

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
VERDICTS = CORPUS / "jobs" / "verdicts.json"

pytestmark = pytest.mark.skipif(not VERDICTS.exists(), reason="shared corpus not available")

ACCEPT, REFUSE = "accept", "refuse"
SERVER, STRICT, LAVA_RUN = "server", "server --strict", "lava-run"


class Rule(NamedTuple):
    reference: str  # the reference's verdict
    mode: str  # which validator: submission (non-strict or strict) or lava-run's schema check
    source: str  # where the reference's rule is recorded


RULES: dict[str, Rule] = {
    "corpus job as is": Rule(ACCEPT, SERVER, "verdicts.json"),
    "job timeout in seconds": Rule(ACCEPT, SERVER, "§4.1 timeout syntax"),
    "job timeout in two units": Rule(ACCEPT, SERVER, "issue 11: units add up"),
    "action timeouts in two units, within the job's": Rule(ACCEPT, SERVER, "issue 11: units add up"),
    "action timeout in two units, beyond the job's": Rule(REFUSE, SERVER, "§4.1 cross checks"),
    "action timeout beyond the job's, in lava-run": Rule(ACCEPT, LAVA_RUN, "§4.6: only a warning"),
    "timeouts.action beyond the job's": Rule(REFUSE, SERVER, "§4.1 cross checks"),
    "timeouts.action beyond the job's, in lava-run": Rule(ACCEPT, LAVA_RUN, "§4.6: only a warning"),
    "timeout with an unknown unit": Rule(REFUSE, SERVER, "§4.1 timeout syntax"),
    "timeout of 0 minutes": Rule(REFUSE, SERVER, "§4.1 timeout syntax (int >= 1)"),
    "timeout as a bare number": Rule(REFUSE, SERVER, "§4.1 timeout syntax"),
    "repeat with failure_retry": Rule(ACCEPT, SERVER, "issue 11"),
    "repeat: 0": Rule(REFUSE, SERVER, "§4.1 per-action keys (>= 1)"),
    "failure_retry as a string": Rule(REFUSE, SERVER, "§4.1 per-action keys"),
    "unknown top-level key": Rule(ACCEPT, SERVER, "issue 11; §4.1 non-strict mode"),
    "unknown top-level key, strict": Rule(REFUSE, STRICT, "§4.1 strict mode"),
    "unknown key in an action": Rule(ACCEPT, SERVER, "§4.1 non-strict mode"),
    "unknown key in an action, strict": Rule(REFUSE, STRICT, "§4.1 strict mode"),
    "unknown key in timeouts": Rule(ACCEPT, SERVER, "§4.1 non-strict mode"),
    "missing job_name": Rule(REFUSE, SERVER, "§4.1 required"),
    "missing timeouts": Rule(REFUSE, SERVER, "§4.1 required"),
    "missing timeouts.job": Rule(REFUSE, SERVER, "§4.1 required"),
    "missing visibility": Rule(REFUSE, SERVER, "§4.1 required"),
    "missing actions": Rule(REFUSE, SERVER, "§4.1 required"),
    "missing device_type": Rule(REFUSE, SERVER, "§4.1 single-node"),
    "missing optional keys": Rule(ACCEPT, SERVER, "§4.1 optional"),
    "job_name of 201 characters": Rule(REFUSE, SERVER, "§4.1 1..200 chars"),
    "job_name as a number": Rule(REFUSE, SERVER, "§4.1"),
    "unknown visibility": Rule(REFUSE, SERVER, "§4.1"),
    "priority 101": Rule(REFUSE, SERVER, "§4.1 0..100"),
    "priority as an unknown name": Rule(REFUSE, SERVER, "§4.1"),
    "priority as a number": Rule(ACCEPT, SERVER, "§4.1 0..100"),
    "tags as a string": Rule(REFUSE, SERVER, "§4.1 list"),
    "metadata as a list": Rule(REFUSE, SERVER, "§4.1 dict"),
    "secrets as a list": Rule(REFUSE, SERVER, "§4.1 dict"),
    "timeouts as a list": Rule(REFUSE, SERVER, "§4.1"),
    "actions as a mapping": Rule(REFUSE, SERVER, "§4.1 list"),
    "context variable not whitelisted": Rule(REFUSE, SERVER, "§4.1 context whitelist"),
    "context value as a mapping": Rule(REFUSE, SERVER, "§4.1 values int/str/list"),
    "unknown deploy target": Rule(REFUSE, SERVER, "§4.1 unknown action type"),
    "unknown boot method": Rule(REFUSE, SERVER, "§4.1 unknown action type"),
    "namespace on one action only": Rule(REFUSE, SERVER, "§4.1 cross checks"),
    "reserved namespace": Rule(REFUSE, SERVER, "§4.1 cross checks"),
    # the reference accepts these; we refuse on purpose (doc/job-validation.md says why)
    "empty visibility group list": Rule(ACCEPT, SERVER, "§4.1 {group: [names]}"),
    "empty namespace": Rule(ACCEPT, SERVER, "§4.1 namespace: str"),
    "test block of two kinds": Rule(ACCEPT, SERVER, "§4.4 kind from keys; non-strict extra keys"),
}

# rules where we chose to differ from the reference, each with its reason (also in doc/job-validation.md)
DIFFERENCES = {
    "empty visibility group list": "refused: a job visible to an empty list of groups is visible to nobody; "
                                   "use visibility: personal",
    "empty namespace": "refused: an empty name (namespace, device, prompt, path...) is always a mistake "
                       "that would fail later on the worker",
    "test block of two kinds": "refused: a test block does one kind of test; the reference silently ignores "
                               "the second kind's key (e.g. interactive next to definitions)",
}


def _valid_jobs() -> list[tuple[str, dict]]:
    if not VERDICTS.exists():
        return []
    verdicts = json.loads(VERDICTS.read_text())
    return [(name, load_yaml((CORPUS / name).read_bytes()))
            for name, entry in sorted(verdicts.items()) if entry["reference_verdict"] == "valid"]


def _blocks(job: dict) -> list[dict]:
    return [next(iter(wrapper.values())) for wrapper in job["actions"]]


def _changed(job: dict, change) -> dict:
    variant = copy.deepcopy(job)
    change(variant)
    return variant


def _two_units_above(seconds: int) -> dict[str, int]:
    """A timeout longer than ``seconds``, in minutes and seconds."""
    return {"minutes": seconds // 60 + 1, "seconds": 1}


def variants(job: dict) -> Iterator[tuple[str, dict]]:
    """(rule, variant) pairs: every rule of RULES that applies to this job."""
    limit = timeout_seconds(job["timeouts"]["job"])
    multinode = "lava-multinode" in job.get("protocols", {})
    yield "corpus job as is", job
    yield "job timeout in seconds", _changed(job, lambda j: j["timeouts"].update(job={"seconds": limit}))
    yield "job timeout in two units", _changed(job, lambda j: j["timeouts"].update(job=_two_units_above(limit)))
    if limit > 61:
        within = {"minutes": (limit - 1) // 60, "seconds": 1}
        yield "action timeouts in two units, within the job's", _changed(
            job, lambda j: [block.update(timeout=within) for block in _blocks(j)])
    beyond = _two_units_above(limit)
    yield "action timeout in two units, beyond the job's", _changed(
        job, lambda j: _blocks(j)[0].update(timeout=beyond))
    yield "action timeout beyond the job's, in lava-run", _changed(
        job, lambda j: _blocks(j)[0].update(timeout=beyond))
    yield "timeouts.action beyond the job's", _changed(job, lambda j: j["timeouts"].update(action=beyond))
    yield "timeouts.action beyond the job's, in lava-run", _changed(job, lambda j: j["timeouts"].update(action=beyond))
    yield "timeout with an unknown unit", _changed(job, lambda j: j["timeouts"].update(job={"mins": 5}))
    yield "timeout of 0 minutes", _changed(job, lambda j: j["timeouts"].update(job={"minutes": 0}))
    yield "timeout as a bare number", _changed(job, lambda j: j["timeouts"].update(job=limit))
    yield "repeat with failure_retry", _changed(
        job, lambda j: [block.update(repeat=2, failure_retry=3) for block in _blocks(j)])
    yield "repeat: 0", _changed(job, lambda j: _blocks(j)[-1].update(repeat=0))
    yield "failure_retry as a string", _changed(job, lambda j: _blocks(j)[0].update(failure_retry="2"))
    yield "unknown top-level key", _changed(job, lambda j: j.update(build_notes="from CI"))
    yield "unknown top-level key, strict", _changed(job, lambda j: j.update(build_notes="from CI"))
    yield "unknown key in an action", _changed(job, lambda j: _blocks(j)[0].update(my_note="x"))
    yield "unknown key in an action, strict", _changed(job, lambda j: _blocks(j)[0].update(my_note="x"))
    yield "unknown key in timeouts", _changed(job, lambda j: j["timeouts"].update(deploy={"minutes": 1}))
    for key in ("job_name", "timeouts", "visibility", "actions"):
        yield f"missing {key}", _changed(job, lambda j, key=key: j.pop(key))
    yield "missing timeouts.job", _changed(job, lambda j: j["timeouts"].pop("job"))
    if not multinode:
        yield "missing device_type", _changed(job, lambda j: j.pop("device_type"))
    optional = [key for key in ("priority", "context", "metadata", "tags", "notify", "environment", "secrets",
                                "reboot_to_fastboot", "device", "worker") if key in job]
    if optional:
        yield "missing optional keys", _changed(job, lambda j: [j.pop(key) for key in optional])
    yield "job_name of 201 characters", _changed(job, lambda j: j.update(job_name="x" * 201))
    yield "job_name as a number", _changed(job, lambda j: j.update(job_name=42))
    yield "unknown visibility", _changed(job, lambda j: j.update(visibility="everyone"))
    yield "priority 101", _changed(job, lambda j: j.update(priority=101))
    yield "priority as an unknown name", _changed(job, lambda j: j.update(priority="urgent"))
    yield "priority as a number", _changed(job, lambda j: j.update(priority=100))
    yield "tags as a string", _changed(job, lambda j: j.update(tags="usb"))
    yield "metadata as a list", _changed(job, lambda j: j.update(metadata=["build"]))
    yield "secrets as a list", _changed(job, lambda j: j.update(secrets=["TOKEN"]))
    yield "timeouts as a list", _changed(job, lambda j: j.update(timeouts=[{"job": {"minutes": 5}}]))
    yield "actions as a mapping", _changed(job, lambda j: j.update(actions={"boot": {"method": "qemu"}}))
    if not multinode:
        yield "context variable not whitelisted", _changed(
            job, lambda j: j.setdefault("context", {}).update(kernel_cmdline_hack="x"))
        yield "context value as a mapping", _changed(job, lambda j: j.setdefault("context", {}).update(arch={"a": 1}))
    for index, wrapper in enumerate(job["actions"]):
        if "deploy" in wrapper:
            yield "unknown deploy target", _changed(job, lambda j, i=index: j["actions"][i]["deploy"].update(to="cloud"))
            break
    for index, wrapper in enumerate(job["actions"]):
        if "boot" in wrapper:
            yield "unknown boot method", _changed(job, lambda j, i=index: j["actions"][i]["boot"].update(method="magic"))
            break
    if len(job["actions"]) > 1 and not any("namespace" in block for block in _blocks(job)):
        yield "namespace on one action only", _changed(job, lambda j: _blocks(j)[0].update(namespace="target"))
    yield "reserved namespace", _changed(job, lambda j: [block.update(namespace="common") for block in _blocks(j)])
    yield "empty visibility group list", _changed(job, lambda j: j.update(visibility={"group": []}))
    yield "empty namespace", _changed(job, lambda j: [block.update(namespace="") for block in _blocks(j)])
    for index, wrapper in enumerate(job["actions"]):
        if "definitions" in wrapper.get("test", {}):
            yield "test block of two kinds", _changed(job, lambda j, i=index: j["actions"][i]["test"].update(
                interactive=[{"name": "shell", "prompts": ["# "], "script": [{"command": "true"}]}]))
            break


def our_verdict(variant: dict, mode: str) -> tuple[str, list[str]]:
    try:
        warnings = validate_job(variant, strict=mode == STRICT, refuse_long_timeouts=mode != LAVA_RUN)
    except JobSchemaError as exc:
        return REFUSE, [str(issue) for issue in exc.errors]
    return ACCEPT, [str(issue) for issue in warnings]


class Outcome(NamedTuple):
    job: str
    rule: str
    ours: str
    messages: list[str]


def compare_all() -> list[Outcome]:
    outcomes = []
    for name, job in _valid_jobs():
        for rule, variant in variants(job):
            ours, messages = our_verdict(variant, RULES[rule].mode)
            outcomes.append(Outcome(name, rule, ours, messages))
    return outcomes


OUTCOMES = compare_all()


def agreement_report(outcomes: list[Outcome]) -> str:
    total = Counter(outcome.rule for outcome in outcomes)
    agreed = Counter(outcome.rule for outcome in outcomes if outcome.ours == RULES[outcome.rule].reference)
    lines = [f"{'rule':<52} {'mode':<16} {'reference':<9} agree/variants"]
    for rule, spec in RULES.items():
        if total[rule]:
            mark = "" if agreed[rule] == total[rule] else "   <- we differ (doc/job-validation.md)"
            lines.append(f"{rule:<52} {spec.mode:<16} {spec.reference:<9} {agreed[rule]}/{total[rule]}{mark}")
    count, good = sum(total.values()), sum(agreed.values())
    lines.append(f"agreement with the reference: {good}/{count} variants = {100 * good / count:.1f}% "
                 f"over {len({o.job for o in outcomes})} corpus jobs and {len(total)} rules; "
                 f"{len(total) - len(DIFFERENCES)}/{len(total)} rules agreed, {len(DIFFERENCES)} where we differ on purpose")
    return "\n".join(lines)


def test_every_rule_is_exercised():
    exercised = {outcome.rule for outcome in OUTCOMES}
    assert exercised == set(RULES)


def test_we_agree_with_the_reference_except_where_documented(capsys):
    disagreements = [o for o in OUTCOMES if o.ours != RULES[o.rule].reference]
    unexplained = [o for o in disagreements if o.rule not in DIFFERENCES]
    assert not unexplained, "\n".join(f"{o.job}: {o.rule}: we {o.ours}: {o.messages[:3]}" for o in unexplained[:20])
    # each documented difference is real, so the list cannot go stale
    assert {o.rule for o in disagreements} == set(DIFFERENCES)
    with capsys.disabled():
        print("\n" + agreement_report(OUTCOMES))


def test_every_refusal_has_a_path_and_a_reason():
    for outcome in OUTCOMES:
        if outcome.ours == REFUSE:
            assert outcome.messages, outcome
            assert all(": " in message for message in outcome.messages), outcome


def test_unknown_keys_are_accepted_with_a_warning_naming_them():
    for outcome in OUTCOMES:
        if outcome.rule == "unknown top-level key":
            assert "build_notes: unknown key (ignored)" in outcome.messages
        elif outcome.rule == "unknown key in timeouts":
            assert ("timeouts.deploy: unknown key; expected one of job, action, actions, connection, connections, "
                    "queue (ignored)") in outcome.messages


def test_differences_are_documented():
    doc = (Path(__file__).resolve().parents[2] / "doc" / "job-validation.md").read_text()
    for rule in DIFFERENCES:
        assert rule in doc, rule


def _refusal(outcomes: list[Outcome], rule: str) -> Any:
    return next(o.messages for o in outcomes if o.rule == rule)


def test_deliberate_refusals_say_what_to_do():
    assert any("must not be empty" in m for m in _refusal(OUTCOMES, "empty visibility group list"))
    assert any("a test block has one of" in m for m in _refusal(OUTCOMES, "test block of two kinds"))


if __name__ == "__main__":
    if not VERDICTS.exists():
        sys.exit("shared corpus not available")
    print(agreement_report(OUTCOMES))
