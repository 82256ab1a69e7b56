"""The published JSON Schema and the command line agree with the validator."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lava_common.schemas import job_json_schema
from lava_common.schemas.boot import BOOT_METHODS
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_common.yaml_loader import load_yaml

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"

jsonschema = pytest.importorskip("jsonschema")

MINIMAL = """job_name: smoke
device_type: qemu
visibility: public
timeouts: {job: {minutes: 10}}
actions:
- boot: {method: qemu, media: tmpfs, prompts: ['# ']}
"""


@pytest.fixture(scope="module")
def validator():
    schema = job_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_shape():
    schema = job_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {"job_name", "timeouts", "visibility", "actions"}
    assert "timeout" in schema["$defs"] and "artefact" in schema["$defs"]
    # small enough for an editor to load without fuss
    assert len(json.dumps(schema)) < 200_000
    for method in BOOT_METHODS:
        assert f"boot-{method}" in schema["$defs"]
    for target in DEPLOY_TARGETS:
        assert f"deploy-{target}" in schema["$defs"]


def test_json_schema_accepts_the_valid_corpus(validator):
    verdicts_file = CORPUS / "jobs" / "verdicts.json"
    if not verdicts_file.exists():
        pytest.skip("shared corpus not available")
    verdicts = json.loads(verdicts_file.read_text())
    for name, entry in verdicts.items():
        if entry["reference_verdict"] == "valid":
            data = json.loads(json.dumps(load_yaml((CORPUS / name).read_bytes()), default=str))
            errors = [error.message for error in validator.iter_errors(data)]
            assert not errors, (name, errors[:3])


@pytest.mark.parametrize(
    "change",
    [
        lambda job: job.update(priority=200),
        lambda job: job["actions"][0]["boot"].update(method="magic"),
        lambda job: job["timeouts"].update(job={"mins": 5}),
        lambda job: job.pop("visibility"),
        lambda job: job["timeouts"].update(job={"minutes": 0}),
        lambda job: job["actions"].append({"flash": {}}),
    ],
)
def test_json_schema_refuses_what_the_validator_refuses(validator, change):
    job = load_yaml(MINIMAL)
    assert not list(validator.iter_errors(job))
    change(job)
    assert list(validator.iter_errors(job))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lava_common.schemas", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_cli_job(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("method: qemu", "method: magic").replace("public", "everyone"))
    result = run_cli("job", str(good))
    assert (result.returncode, result.stdout) == (0, f"{good}: valid\n")
    result = run_cli("job", str(good), str(bad), str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{good}: valid"
    assert lines[1] == f"{bad}: invalid"
    assert lines[2].startswith("  visibility: must be public, personal")
    assert lines[3].startswith("  actions[0].boot.method: unknown boot method 'magic'")
    assert lines[4].startswith(f"{tmp_path / 'missing.yaml'}: cannot read")
    assert not result.stderr


def test_cli_strict_and_testdef(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(MINIMAL.replace("media: tmpfs", "media: tmpfs, note: x"))
    assert run_cli("job", str(job)).returncode == 0
    result = run_cli("job", "--strict", str(job))
    assert result.returncode == 1 and "actions[0].boot.note: unknown key" in result.stdout
    testdef = tmp_path / "testdef.yaml"
    testdef.write_text("metadata: {format: Lava-Test Test Definition 1.0, name: x}\nrun: {steps: [true]}\n")
    assert run_cli("testdef", str(testdef)).stdout == f"{testdef}: valid\n"
    testdef.write_text("metadata: {name: x}\n")
    result = run_cli("testdef", str(testdef))
    assert result.returncode == 1 and "metadata.format: required key missing" in result.stdout


def test_cli_json_schema():
    result = run_cli("json-schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "LAVA job definition"
    assert json.loads(run_cli("json-schema", "--testdef").stdout)["required"] == ["metadata"]
