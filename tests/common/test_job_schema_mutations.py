"""Every valid corpus job, broken in each of the usual ways, is refused at the right path."""

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lava_common.schemas import JobSchemaError, validate_job
from lava_common.yaml_loader import load_yaml

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
VERDICTS = CORPUS / "jobs" / "verdicts.json"

pytestmark = pytest.mark.skipif(not VERDICTS.exists(), reason="shared corpus not available")


def _valid_jobs() -> list[tuple[str, dict]]:
    if not VERDICTS.exists():
        return []
    verdicts = json.loads(VERDICTS.read_text())
    return [(name, load_yaml((CORPUS / name).read_bytes()))
            for name, entry in sorted(verdicts.items()) if entry["reference_verdict"] == "valid"]


JOBS = _valid_jobs()

# a mutation takes a copy of a job, breaks it, and yields the path (and a message fragment) we must report
Mutation = Callable[[dict], Iterator[tuple[str, str]]]


def _blocks(job: dict):
    for index, wrapper in enumerate(job["actions"]):
        (kind, block), = wrapper.items()
        yield f"actions[{index}].{kind}", kind, block


def delete_top_level_keys(job):
    for key in ("job_name", "timeouts", "visibility", "actions"):
        broken = copy.deepcopy(job)
        del broken[key]
        yield broken, key, "required key missing"
    broken = copy.deepcopy(job)
    del broken["timeouts"]["job"]
    yield broken, "timeouts.job", "required key missing"


def delete_action_keys(job):
    required = {"deploy": "to", "boot": "method", "command": "name"}
    for index, (path, kind, block) in enumerate(_blocks(job)):
        broken = copy.deepcopy(job)
        target = next(iter(broken["actions"][index].values()))
        if kind in required:
            del target[required[kind]]
            yield broken, f"{path}.{required[kind]}", "required key missing"
        elif "definitions" in block:
            for key in ("from", "name", "path", "repository"):
                broken = copy.deepcopy(job)
                del next(iter(broken["actions"][index].values()))["definitions"][0][key]
                yield broken, f"{path}.definitions[0].{key}", "required key missing"


def wrong_types(job):
    for key, value, message in (("job_name", 42, "expected a string, got int"),
                                ("visibility", ["public"], "must be public, personal"),
                                ("actions", {"deploy": {}}, "expected a list of actions, got mapping"),
                                ("timeouts", "30m", "expected a mapping, got string")):
        broken = copy.deepcopy(job)
        broken[key] = value
        yield broken, key, message
    for index, (path, kind, block) in enumerate(_blocks(job)):
        if kind == "deploy" and isinstance(block.get("images"), dict) and block["images"]:
            broken = copy.deepcopy(job)
            images = broken["actions"][index]["deploy"]["images"]
            label = next(iter(images))
            if isinstance(images[label], dict):
                images[label]["url"] = 7
                yield broken, f"{path}.images.{label}.url", "expected a URL string, got 7"
        if "timeout" in block:
            broken = copy.deepcopy(job)
            next(iter(broken["actions"][index].values()))["timeout"] = "5m"
            yield broken, f"{path}.timeout", "expected a timeout such as {minutes: 5}, got string"


def unknown_names(job):
    for index, (path, kind, _block) in enumerate(_blocks(job)):
        broken = copy.deepcopy(job)
        wrapper = broken["actions"][index]
        wrapper["flash"] = wrapper.pop(kind)
        yield broken, f"actions[{index}]", "unknown action type 'flash'"
        if kind in ("deploy", "boot"):
            key, label = ("to", "deploy target") if kind == "deploy" else ("method", "boot method")
            broken = copy.deepcopy(job)
            next(iter(broken["actions"][index].values()))[key] = "magic"
            yield broken, f"{path}.{key}", f"unknown {label} 'magic'; known: "


def bad_priorities(job):
    for value in (200, -1):
        broken = copy.deepcopy(job)
        broken["priority"] = value
        yield broken, "priority", f"must be high, medium, low or an integer 0..100, got {value}"


def long_timeouts(job):
    broken = copy.deepcopy(job)
    broken["timeouts"]["action"] = {"days": 30}
    yield broken, "timeouts.action", "30 days is longer than the job timeout"
    for index, (path, _kind, _block) in enumerate(_blocks(job)):
        broken = copy.deepcopy(job)
        next(iter(broken["actions"][index].values()))["timeout"] = {"days": 30}
        yield broken, f"{path}.timeout", "30 days is longer than the job timeout"


def bad_timeout_units(job):
    for value, suffix, message in (({"mins": 5}, ".mins", "unknown timeout unit 'mins'"),
                                   ({"minutes": -5}, ".minutes", "expected a whole number >= 1"),
                                   ({"minutes": 1.5}, ".minutes", "expected a whole number >= 1, got float"),
                                   ({"skip": True}, "", "needs at least one of")):
        broken = copy.deepcopy(job)
        broken["timeouts"]["job"] = value
        yield broken, "timeouts.job" + suffix, message


def partial_namespaces(job):
    blocks = list(_blocks(job))
    if len(blocks) < 2:
        return
    broken = copy.deepcopy(job)
    for wrapper in broken["actions"]:
        next(iter(wrapper.values())).pop("namespace", None)
    next(iter(broken["actions"][0].values()))["namespace"] = "one"
    yield broken, f"{blocks[1][0]}.namespace", "required when other actions have a namespace"


MUTATIONS = [delete_top_level_keys, delete_action_keys, wrong_types, unknown_names, bad_priorities,
             long_timeouts, bad_timeout_units, partial_namespaces]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_broken_corpus_jobs_are_refused_with_path_and_reason(mutation):
    checked = 0
    for name, job in JOBS:
        for broken, path, fragment in mutation(job):
            try:
                validate_job(broken)
            except JobSchemaError as exc:
                found = [issue for issue in exc.errors if issue.path == path and fragment in issue.message]
                assert found, f"{name}: wanted {path}: ...{fragment}..., got:\n{exc}"
            else:
                pytest.fail(f"{name}: {mutation.__name__} at {path} was accepted")
            checked += 1
    assert checked >= len(JOBS) // 2
