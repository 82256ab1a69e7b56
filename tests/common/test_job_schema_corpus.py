"""The reference's own sample jobs: every one it accepts, we accept; its split sub-jobs we refuse, with paths."""

import json
from pathlib import Path

import pytest

from lava_common.schemas import JobSchemaError, validate_job, validate_job_text
from lava_common.yaml_loader import load_yaml

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
VERDICTS = CORPUS / "jobs" / "verdicts.json"

pytestmark = pytest.mark.skipif(not VERDICTS.exists(), reason="shared corpus not available")


def _verdicts() -> dict[str, str]:
    if not VERDICTS.exists():
        return {}
    return {name: entry["reference_verdict"] for name, entry in json.loads(VERDICTS.read_text()).items()}


VALID = sorted(name for name, verdict in _verdicts().items() if verdict == "valid")
INVALID = sorted(name for name, verdict in _verdicts().items() if verdict == "invalid")
HEALTH_CHECKS = sorted(p.name for p in (CORPUS / "health-checks").glob("*.yaml"))


def test_corpus_has_the_expected_shape():
    assert len(VALID) >= 150
    assert len(INVALID) == 8


@pytest.mark.parametrize("name", VALID)
def test_reference_valid_job_validates(name):
    validate_job_text((CORPUS / name).read_bytes())


@pytest.mark.parametrize("name", HEALTH_CHECKS)
def test_health_check_validates(name):
    validate_job_text((CORPUS / "health-checks" / name).read_bytes())


@pytest.mark.parametrize("name", INVALID)
def test_split_multinode_sub_job_is_refused_with_paths(name):
    with pytest.raises(JobSchemaError) as info:
        validate_job_text((CORPUS / name).read_bytes())
    issues = info.value.errors
    assert issues
    assert all(issue.path and issue.message for issue in issues)
    # the user is told what this file is, not only which keys are odd
    assert any(issue.path == "protocols.lava-multinode" and "sub-job" in issue.message for issue in issues)


def test_most_valid_jobs_also_pass_strict_mode():
    # strict mode refuses keys we do not know; the reference's samples use few of those
    failures = []
    for name in VALID:
        try:
            validate_job(load_yaml((CORPUS / name).read_bytes()), strict=True)
        except JobSchemaError as exc:
            failures.append((name, str(exc)))
    assert len(failures) <= 3, failures


def test_errors_come_in_a_stable_order():
    text = (CORPUS / INVALID[0]).read_bytes()
    messages = []
    for _ in range(3):
        with pytest.raises(JobSchemaError) as info:
            validate_job_text(text)
        messages.append(str(info.value))
    assert len(set(messages)) == 1
