"""Hostile or broken text: only JobSchemaError comes out, quickly, with a reason."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lava_common.schemas import JobSchemaError, validate_job, validate_job_text

MINIMAL = """
job_name: smoke
device_type: qemu
visibility: public
timeouts: {job: {minutes: 10}}
actions:
- boot: {method: qemu, media: tmpfs}
"""


def refuse(text, **kwargs) -> JobSchemaError:
    start = time.perf_counter()
    with pytest.raises(JobSchemaError) as info:
        validate_job_text(text, **kwargs)
    assert time.perf_counter() - start < 1.0
    assert info.value.errors
    assert "internal validator error" not in str(info.value)
    return info.value


def test_minimal_text_validates_and_returns_the_data():
    data = validate_job_text(MINIMAL)
    assert data["job_name"] == "smoke"
    assert validate_job_text(MINIMAL.encode())["device_type"] == "qemu"


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "~", "null"])
def test_empty_documents(text):
    error = refuse(text)
    assert error.errors[0].path == ""


@pytest.mark.parametrize(
    "text",
    [
        "job_name: [unclosed",
        "\tjob_name: tabs",
        "a: b: c",
        "--- 1\n--- 2\n",
        "!!python/object:os.system ['ls']",
        "key: !!binary notbase64!",
        "\x00\x01\x02",
        b"\xff\xfe\xfa not utf-8",
        "- just\n- a\n- list\n",
        "42",
        "'a string'",
        "? [complex, key]\n: value\n",
        "job_name: 2024-01-01\n",
        "priority: 99999999999999999999999999999999999999999999\n",
        "priority: " + "9" * 5000 + "\n",
        "job_name: " + "\u2603" * 300 + "\n",
    ],
)
def test_garbage_is_a_schema_error(text):
    error = refuse(text)
    for issue in error.errors:
        assert isinstance(issue.path, str) and issue.message


def test_yaml_errors_say_where():
    error = refuse("job_name: smoke\nactions: [unclosed\n")
    [issue] = error.errors
    assert issue.path == ""
    assert issue.message.startswith("not valid YAML: line ")


def test_huge_document_is_refused_before_parsing():
    error = refuse("job_name: " + "x" * (2 * 1024 * 1024))
    assert "more than the limit" in str(error)


def test_deep_nesting_is_refused():
    refuse("metadata: " + "[" * 5000 + "]" * 5000)
    refuse("metadata:\n" + "".join("  " * depth + f"k{depth}:\n" for depth in range(200)))


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 12):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    lines.append("job_name: *a11")
    refuse("\n".join(lines))


def test_huge_values_in_a_parsed_job():
    job = validate_job_text(MINIMAL)
    job["priority"] = 10**5000
    with pytest.raises(JobSchemaError) as info:
        validate_job(job)
    assert "priority: must be high, medium, low or an integer 0..100, got <a very large number>" in str(info.value)
    job["priority"] = "x" * 1_000_000
    with pytest.raises(JobSchemaError) as info:
        validate_job(job)
    assert len(str(info.value)) < 200


def test_self_referencing_data_does_not_hang():
    job = validate_job_text(MINIMAL)
    job["metadata"] = {}
    job["metadata"]["self"] = job
    job["actions"].append({"test": job})
    with pytest.raises(JobSchemaError):
        validate_job(job)


# any YAML-like data: the validator must answer with JobSchemaError or accept, never crash
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                     st.sampled_from(["deploy", "boot", "test", "command", "tmpfs", "qemu", "public", "to",
                                      "method", "minutes", "definitions", "lava-multinode", "roles"]))
_keys = st.one_of(st.sampled_from(["job_name", "device_type", "visibility", "timeouts", "actions", "job",
                                   "priority", "context", "protocols", "deploy", "boot", "test", "to",
                                   "method", "images", "url", "timeout", "definitions", "namespace",
                                   "role", "roles", "lava-multinode", "minutes", "notify", "interactive"]),
                  st.text(max_size=8), st.integers())
_data = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(_keys, inner, max_size=5)),
                     max_leaves=40)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_data)
def test_fuzz_only_schema_errors(data):
    try:
        validate_job(data)
        validate_job(data, strict=True)
    except JobSchemaError as exc:
        assert "internal validator error" not in str(exc)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_keys, _data, max_size=8))
def test_fuzz_inside_a_valid_job(extra):
    job = validate_job_text(MINIMAL)
    job["actions"].append({"deploy": {"to": "tmpfs", **{k: v for k, v in extra.items() if isinstance(k, str)}}})
    job["actions"].append({"test": dict(extra)})
    job.update({k: v for k, v in extra.items() if k in ("context", "protocols", "notify", "timeouts")})
    try:
        validate_job(job, strict=True)
    except JobSchemaError as exc:
        assert "internal validator error" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_text(text):
    try:
        validate_job_text(text)
    except JobSchemaError as exc:
        assert "internal validator error" not in str(exc)
