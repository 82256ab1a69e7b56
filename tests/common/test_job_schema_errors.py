"""Broken job definitions are refused with every problem, each with a path and a reason."""

import copy

import pytest

from lava_common.schemas import JobSchemaError, SchemaIssue, validate_job


def example_job() -> dict:
    return {
        "job_name": "qemu smoke",
        "device_type": "qemu",
        "visibility": "public",
        "priority": "medium",
        "timeouts": {"job": {"minutes": 30}, "action": {"minutes": 5}, "connection": {"minutes": 2}},
        "context": {"arch": "amd64"},
        "metadata": {"build_id": "42"},
        "actions": [
            {"deploy": {"to": "tmpfs", "os": "debian", "images": {"rootfs": {
                "url": "https://example.org/disk.qcow2.xz", "compression": "xz",
                "image_arg": "-drive format=qcow2,file={rootfs}"}}}},
            {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["root@debian:~#"],
                      "auto_login": {"login_prompt": "login:", "username": "root"}}},
            {"test": {"timeout": {"minutes": 5}, "definitions": [
                {"from": "git", "repository": "https://example.org/tests.git", "path": "smoke.yaml",
                 "name": "smoke"}]}},
        ],
    }


def issues_of(job: dict, **kwargs) -> list[SchemaIssue]:
    with pytest.raises(JobSchemaError) as info:
        validate_job(job, **kwargs)
    assert info.value.errors, "a JobSchemaError always lists its problems"
    return info.value.errors


def messages(job: dict, **kwargs) -> list[str]:
    return [str(issue) for issue in issues_of(job, **kwargs)]


def test_example_is_valid_in_both_modes():
    validate_job(example_job())
    validate_job(example_job(), strict=True)


def test_unknown_boot_method_lists_known_ones():
    job = example_job()
    job["actions"][1]["boot"]["method"] = "magic"
    [message] = messages(job)
    assert message.startswith("actions[1].boot.method: unknown boot method 'magic'; known: avh, barebox, ")


def test_missing_job_timeout():
    job = example_job()
    del job["timeouts"]["job"]
    assert "timeouts.job: required key missing" in messages(job)


def test_wrong_type_of_url():
    job = example_job()
    job["actions"][0]["deploy"]["images"]["rootfs"]["url"] = 42
    assert messages(job) == ["actions[0].deploy.images.rootfs.url: expected a URL string, got 42"]


@pytest.mark.parametrize("priority", [200, -1, "urgent", 3.5, None, True])
def test_bad_priority(priority):
    job = example_job()
    job["priority"] = priority
    [message] = messages(job)
    assert message.startswith("priority: must be high, medium, low or an integer 0..100, got ")


@pytest.mark.parametrize("priority", ["high", "medium", "low", 0, 50, 100])
def test_good_priority(priority):
    job = example_job()
    job["priority"] = priority
    validate_job(job)


def test_action_timeout_longer_than_job():
    job = example_job()
    job["actions"][1]["boot"]["timeout"] = {"hours": 2}
    assert messages(job) == ["actions[1].boot.timeout: 2 hours is longer than the job timeout (30 minutes)"]


@pytest.mark.parametrize("where", [("action",), ("connection",), ("actions", "lava-test-shell"),
                                   ("connections", "auto-login-action")])
def test_global_timeouts_longer_than_job(where):
    job = example_job()
    target = job["timeouts"]
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = {"seconds": 1801}
    [message] = messages(job)
    assert message == f"timeouts.{'.'.join(where)}: 1801 seconds is longer than the job timeout (30 minutes)"


def test_queue_timeout_may_exceed_job_timeout():
    job = example_job()
    job["timeouts"]["queue"] = {"days": 2}
    validate_job(job)


@pytest.mark.parametrize(
    "timeout, expected",
    [
        ({"mins": 5}, ["timeouts.job.mins: unknown timeout unit 'mins'; use days, hours, minutes, seconds",
                       "timeouts.job: needs at least one of days, hours, minutes, seconds"]),
        ({"minutes": "5"}, ["timeouts.job.minutes: expected a whole number >= 1, got string"]),
        ({"minutes": 0}, ["timeouts.job.minutes: expected a whole number >= 1, got 0"]),
        ({"minutes": 5, "skip": "yes"}, ["timeouts.job.skip: expected true or false, got 'yes'"]),
        (300, ["timeouts.job: expected a timeout such as {minutes: 5}, got int"]),
    ],
)
def test_bad_timeout_syntax(timeout, expected):
    job = example_job()
    job["timeouts"]["job"] = timeout
    assert messages(job) == expected


def test_timeout_units_add_up_as_in_the_reference():
    job = example_job()
    job["timeouts"] = {"job": {"minutes": 1, "seconds": 30}}
    job["actions"][2]["test"]["timeout"] = {"seconds": 91}
    assert messages(job) == ["actions[2].test.timeout: 91 seconds is longer than the job timeout (1 minute 30 seconds)"]
    job["actions"][2]["test"]["timeout"] = {"minutes": 1, "seconds": 30}
    validate_job(job)


def test_repeat_and_failure_retry_together_as_in_the_reference():
    job = example_job()
    job["actions"][2]["test"].update(repeat=2, failure_retry=3)
    assert validate_job(job) == []


def test_namespaces_on_some_actions_only():
    job = example_job()
    job["actions"][0]["deploy"]["namespace"] = "target"
    assert messages(job) == [
        "actions[1].boot.namespace: required when other actions have a namespace",
        "actions[2].test.namespace: required when other actions have a namespace",
    ]


def test_reserved_namespace():
    job = example_job()
    for wrapper in job["actions"]:
        next(iter(wrapper.values()))["namespace"] = "common"
    assert all("'common' is reserved" in message for message in messages(job))


def test_all_errors_are_reported_in_document_order():
    job = example_job()
    job["priority"] = 200
    job["actions"][0]["deploy"]["to"] = "floppy"
    job["actions"][1]["boot"]["method"] = "magic"
    del job["actions"][2]["test"]["definitions"][0]["path"]
    paths = [issue.path for issue in issues_of(job)]
    assert paths == ["priority", "actions[0].deploy.to", "actions[1].boot.method",
                     "actions[2].test.definitions[0].path"]


def test_unknown_action_type_and_malformed_wrappers():
    job = example_job()
    job["actions"].append({"flash": {}})
    job["actions"].append({"deploy": {"to": "tmpfs", "images": {}}, "boot": {"method": "qemu"}})
    job["actions"].append("deploy")
    found = messages(job)
    assert found[0] == "actions[3]: unknown action type 'flash'; known: boot, command, deploy, test"
    assert found[1].startswith("actions[4]: an action has exactly one key")
    assert found[2] == "actions[5]: expected an action such as {deploy: {...}}, got string"


def test_unknown_keys_tolerated_in_actions_with_a_warning_unless_strict():
    job = example_job()
    job["actions"][1]["boot"]["my_note"] = "hello"
    assert [str(issue) for issue in validate_job(job)] == ["actions[1].boot.my_note: unknown key (ignored)"]
    assert messages(job, strict=True) == ["actions[1].boot.my_note: unknown key"]


def test_unknown_key_suggests_the_close_one():
    job = example_job()
    job["actions"][1]["boot"]["promts"] = ["#"]
    assert messages(job, strict=True) == ["actions[1].boot.promts: unknown key; did you mean 'prompts'?"]


def test_unknown_top_level_key_is_a_warning_unless_strict():
    job = example_job()
    job["timeout"] = {"minutes": 5}
    assert [str(issue) for issue in validate_job(job)] == [
        "timeout: unknown key; did you mean 'timeouts'? (ignored)"]
    assert messages(job, strict=True) == ["timeout: unknown key; did you mean 'timeouts'?"]


def test_context_whitelist_and_extra_variables():
    job = example_job()
    job["context"]["lab_special"] = 1
    assert messages(job) == ["context.lab_special: 'lab_special' is not a context variable this lab allows"]
    validate_job(job, extra_context_variables=["lab_special"])
    job["context"]["extra_options"] = ["-smp", 2, {"a": 1}]
    assert messages(job, extra_context_variables=["lab_special"]) == [
        "context.extra_options[2]: expected a string or a number, got mapping"]


def test_visibility_forms():
    job = example_job()
    for good in ("public", "personal", {"group": ["lab-team"]}):
        job["visibility"] = good
        validate_job(job)
    job["visibility"] = "secret"
    assert messages(job) == ["visibility: must be public, personal or {group: [names]}, got 'secret'"]
    job["visibility"] = {"group": []}
    assert messages(job) == ["visibility.group: must not be empty"]


def test_test_definition_rules():
    job = example_job()
    definitions = job["actions"][2]["test"]["definitions"]
    definitions.append(dict(definitions[0]))
    definitions.append({**definitions[0], "name": "lava"})
    definitions.append({**definitions[0], "name": "bad name!"})
    definitions.append({"from": "inline", "name": "inline1", "path": "inline/x.yaml",
                        "repository": {"metadata": {"name": "x"}}})
    assert messages(job) == [
        "actions[2].test.definitions[1].name: duplicate test definition name 'smoke'",
        "actions[2].test.definitions[2].name: 'lava' is reserved for LAVA's own results",
        "actions[2].test.definitions[3].name: may only use letters, digits, '-', '_' and '.', got 'bad name!'",
        "actions[2].test.definitions[4].repository.metadata.format: required key missing",
    ]


def test_test_block_needs_a_kind():
    job = example_job()
    job["actions"][2]["test"] = {"timeout": {"minutes": 5}}
    assert messages(job) == [
        "actions[2].test: a test block needs one of definitions, interactive, monitors, services"]


def test_multinode_rules():
    job = example_job()
    del job["device_type"]
    job["protocols"] = {"lava-multinode": {"roles": {
        "server": {"device_type": "qemu", "count": 1},
        "client": {"device_type": "qemu", "count": 2, "expect_role": "nobody"},
    }}}
    job["actions"][0]["deploy"]["role"] = ["server", "client"]
    job["actions"][1]["boot"]["role"] = ["servers"]
    assert messages(job) == [
        "protocols.lava-multinode.roles.client.expect_role: no role named 'nobody'",
        "context: not allowed in a multinode job: set it for each role in protocols.lava-multinode.roles",
        "actions[1].boot.role[0]: no role named 'servers' in protocols.lava-multinode.roles",
        "actions[2].test.role: required key missing in a multinode job",
    ]


def test_single_node_job_needs_device_type():
    job = example_job()
    del job["device_type"]
    assert messages(job) == ["device_type: required key missing (or use protocols.lava-multinode roles)"]


@pytest.mark.parametrize("data", [None, [], 42, "job_name: x", {"job_name": None}, {1: 2}])
def test_not_a_job(data):
    issues = issues_of(data)
    assert all(isinstance(issue, SchemaIssue) for issue in issues)


def test_error_object_is_a_value_error_joining_issues():
    job = example_job()
    job["priority"] = 200
    job["job_name"] = ""
    with pytest.raises(ValueError) as info:
        validate_job(job)
    assert str(info.value) == ("job_name: must not be empty\n"
                               "priority: must be high, medium, low or an integer 0..100, got 200")


def test_input_is_not_modified():
    job = example_job()
    job["priority"] = 200
    before = copy.deepcopy(job)
    issues_of(job)
    assert job == before
