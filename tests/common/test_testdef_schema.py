"""Test definitions (Lava-Test Test Definition 1.0): corpus files validate, broken ones say where."""

from pathlib import Path

import pytest

from lava_common.schemas import JobSchemaError, validate_testdef
from lava_common.yaml_loader import load_yaml

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
TESTDEFS = sorted((CORPUS / "testdefs").glob("*.yaml")) if (CORPUS / "testdefs").is_dir() else []


def minimal() -> dict:
    return {
        "metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke", "description": "d"},
        "run": {"steps": ["lava-test-case true --shell true"]},
    }


def messages(data) -> list[str]:
    with pytest.raises(JobSchemaError) as info:
        validate_testdef(data)
    return [str(issue) for issue in info.value.errors]


@pytest.mark.skipif(not TESTDEFS, reason="shared corpus not available")
@pytest.mark.parametrize("path", TESTDEFS, ids=lambda p: p.name)
def test_corpus_testdefs_validate(path):
    validate_testdef(load_yaml(path.read_bytes()))


def test_minimal_and_full_forms():
    validate_testdef(minimal())
    full = minimal()
    full.update(
        params={"VAR": "x", "N": 3},
        install={"deps": ["curl"], "deps-debian": ["curl"], "steps": ["true"],
                 "git-repos": ["https://example.org/a.git", {"url": "https://example.org/b.git", "branch": "x"}]},
        parse={"pattern": r"(?P<test_case_id>\S+):\s+(?P<result>pass|fail)", "fixupdict": {"PASS": "pass"}},
        expected=["a", "b"],
        my_own_notes="extra keys are allowed",
    )
    validate_testdef(full)


def test_format_string_is_exact():
    data = minimal()
    data["metadata"]["format"] = "Lava-Test Test Definition 2.0"
    [message] = messages(data)
    assert message == ("metadata.format: must be 'Lava-Test Test Definition 1.0', "
                       "got 'Lava-Test Test Definition 2.0'")


def test_required_metadata():
    data = minimal()
    del data["metadata"]["name"]
    assert messages(data) == ["metadata.name: required key missing"]
    assert messages({"run": {"steps": []}}) == ["metadata: required key missing"]


def test_wrong_shapes():
    data = minimal()
    data["run"] = {"steps": "echo hi"}
    data["install"] = {"git-repos": [{"branch": "x"}], "deps-fedora": "curl"}
    data["parse"] = {"pattern": 5}
    assert messages(data) == [
        "run.steps: expected a list, got string",
        "install.git-repos[0].url: required key missing",
        "install.deps-fedora: expected a list, got string",
        "parse.pattern: expected a string, got int",
    ]


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_not_a_mapping(data):
    assert messages(data)[0].startswith("expected a test definition (a mapping), got ")
