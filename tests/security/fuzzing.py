"""What the fuzz tests share: bounded hypothesis settings and input strategies.

CI (``CI=true``) runs the ``lava-ci`` profile: 200 examples a test, no
deadline, derandomized so that a run can be repeated. ``LAVA_FUZZ_EXAMPLES=N``
runs N examples a test instead (say 5000 on a developer's machine).

Inputs are structured, from the most to the least realistic: real corpus
jobs and test definitions with one to a few mutations, random YAML-like trees
with the key names our parsers look for, YAML text with random edits, and
random bytes.
"""

import copy
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from lava_common.yaml_loader import dump_yaml, load_yaml

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

settings.register_profile(
    "lava-ci", max_examples=200, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "lava-fuzz", parent=settings.get_profile("lava-ci"), derandomize=False,
    max_examples=int(os.environ.get("LAVA_FUZZ_EXAMPLES") or 200),
)
# a decorator, not a global profile: the other hypothesis tests keep their own settings
fuzz_settings = settings(settings.get_profile("lava-ci" if os.environ.get("CI") else "lava-fuzz"))


def _corpus_files(folder: str) -> list[Path]:
    root = CORPUS / folder
    return sorted(root.rglob("*.yaml")) if root.is_dir() else []


def _load_all(paths: list[Path]) -> list[Any]:
    loaded = []
    for path in paths:
        try:
            loaded.append(load_yaml(path.read_bytes()))
        except ValueError:
            continue
    return loaded


# what the corpus brings, or a small job of our own when it is absent (the tests still run)
_OWN_JOB = {
    "job_name": "fuzz", "device_type": "qemu", "visibility": "public",
    "timeouts": {"job": {"minutes": 10}, "action": {"minutes": 5}},
    "actions": [
        {"deploy": {"to": "tmpfs", "images": {"kernel": {"url": "file:///k", "image_arg": "-kernel {kernel}"}}}},
        {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "]}},
        {"test": {"timeout": {"minutes": 2}, "definitions": [
            {"from": "inline", "name": "smoke", "path": "inline/smoke.yaml",
             "repository": {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke"},
                            "run": {"steps": ["lava-test-case one --result pass"]}}}]}},
    ],
}
_OWN_TESTDEF = {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke", "description": "d"},
                "params": {"A": "1"}, "install": {"deps": ["curl"], "steps": ["true"]},
                "run": {"steps": ["lava-test-case one --result pass"]},
                "parse": {"pattern": "(?P<test_case_id>\\S+): (?P<result>pass|fail)", "fixupdict": {"PASS": "pass"}}}

CORPUS_JOBS = [job for job in _load_all(_corpus_files("jobs")) if isinstance(job, dict)] or [_OWN_JOB]
CORPUS_TESTDEFS = [d for d in _load_all(_corpus_files("testdefs")) if isinstance(d, dict)] or [_OWN_TESTDEF]

# the key names the parsers look for, so that random trees reach past the first check
KEYS = (
    "job_name", "device_type", "visibility", "timeouts", "actions", "job", "action", "connection", "priority",
    "context", "protocols", "deploy", "boot", "test", "command", "to", "method", "images", "url", "timeout",
    "definitions", "namespace", "role", "roles", "lava-multinode", "minutes", "seconds", "notify", "secrets",
    "interactive", "monitors", "repeat", "failure_retry", "metadata", "format", "name", "run", "steps",
    "install", "parse", "pattern", "fixupdict", "params", "parameters", "expected", "from", "repository", "path",
    "skip_install", "group", "criteria", "status", "image_arg", "prompts", "auto_login", "count", "tags",
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True), st.text(max_size=30), st.sampled_from(KEYS), st.binary(max_size=10),
    st.sampled_from(["", "..", "../../etc/passwd", "/", "file:///etc/shadow", "$(id)", "public", "qemu",
                     "Lava-Test Test Definition 1.0", "tmpfs", "inline", "git", "[", "(?P<x", "\x00", "\u2028"]),
)
_KEY = st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.integers(), st.booleans(), st.none())
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_KEY, inner, max_size=6)),
    max_leaves=30,
)


def _paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside mappings and lists."""
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _parent(tree: Any, path: tuple) -> Any:
    for step in path[:-1]:
        tree = tree[step]
    return tree


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any]) -> Any:
    """A real document with one to four edits: a value replaced or removed, a key added, a list entry doubled."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        if not path:
            if draw(st.booleans()):
                return draw(TREES)
            continue
        parent, last = _parent(document, path), path[-1]
        edit = draw(st.sampled_from(("replace", "remove", "add", "double")))
        if edit == "replace":
            parent[last] = draw(TREES)
        elif edit == "remove":
            del parent[last]
        elif edit == "add" and isinstance(parent, dict):
            parent[draw(_KEY)] = draw(TREES)
        elif edit == "double" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
    return document


def _dump(document: Any) -> str:
    try:
        return dump_yaml(document)
    except Exception:  # noqa: BLE001 - keys YAML cannot write (bytes as keys...): fall back to JSON-ish text
        return json.dumps(document, default=repr)


_INSERTS = ("{", "[", "]", ":", "- ", "&a ", "*a", "!!python/none", "!!binary", "\t", "\n", "'", '"', "? ",
            "%YAML 1.1\n", "\x00", "\ufeff", "\U0001f600", "9" * 400, "<<: *a\n")


@st.composite
def edited_text(draw: st.DrawFn, documents: list[Any]) -> str:
    """A real document as YAML text, with a few characters inserted, deleted or swapped."""
    text = _dump(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(("insert", "delete", "cut")))
        if edit == "insert":
            text = text[:position] + draw(st.sampled_from(_INSERTS)) + text[position:]
        elif edit == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)):]
        else:
            text = text[:position]
    return text


def job_texts() -> st.SearchStrategy:
    """Job definitions as text or bytes, as they reach the server and lava-run."""
    return st.one_of(
        mutated(CORPUS_JOBS).map(_dump),
        edited_text(CORPUS_JOBS),
        TREES.map(_dump),
        st.text(max_size=300),
        st.binary(max_size=300),
    )


def job_trees() -> st.SearchStrategy:
    """Parsed job definitions: mutated corpus jobs and random trees."""
    return st.one_of(mutated(CORPUS_JOBS), mutated(CORPUS_JOBS), TREES)


def definition_texts() -> st.SearchStrategy:
    return st.one_of(mutated(CORPUS_TESTDEFS).map(_dump), edited_text(CORPUS_TESTDEFS), TREES.map(_dump),
                     st.text(max_size=300))


def definition_trees() -> st.SearchStrategy:
    return st.one_of(mutated(CORPUS_TESTDEFS), mutated(CORPUS_TESTDEFS), TREES)
