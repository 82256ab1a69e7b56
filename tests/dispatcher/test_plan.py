"""The plan (typed blocks), the method registry and the per-namespace job context."""

import pytest
import yaml

from lava_common.device_commands import BUILTIN_COMMANDS
from lava_common.exceptions import JobError
from lava_common.schemas.boot import BOOT_METHODS
from lava_common.schemas.command import COMMAND
from lava_common.schemas.deploy import DEPLOY_TARGETS
from lava_common.schemas.test import TEST_KINDS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.context import JobContext
from lava_dispatcher.device import parse_device
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.parser import build_pipeline
from lava_dispatcher.plan import DEFAULT_NAMESPACE, JobPlan
from lava_dispatcher.registry import METHODS

from .helpers import HERE

SCHEMAS = {"deploy": DEPLOY_TARGETS, "boot": BOOT_METHODS, "test": TEST_KINDS}


def device(name="qemu-x86_64.yaml"):
    return parse_device(yaml.safe_load((HERE / "devices" / name).read_text()))


def job(name="qemu-tests.yaml"):
    return yaml.safe_load((HERE / "jobs" / name).read_text())


def test_blocks_keep_section_position_namespace_and_parameters():
    data = job()
    data["actions"][1]["boot"]["namespace"] = "target"
    plan = JobPlan.from_job("7", data)
    assert [(b.section, b.position, b.namespace) for b in plan.blocks] == [
        ("deploy", 0, DEFAULT_NAMESPACE), ("boot", 1, "target"), ("test", 2, DEFAULT_NAMESPACE)]
    assert plan.blocks[1].where == "actions[1].boot"
    assert plan.blocks[0].parameters["to"] == "tmpfs"
    assert "section" not in plan.blocks[0].parameters and "where" not in plan.blocks[0].parameters


def test_test_stage_is_the_rank_among_test_shell_blocks_even_for_identical_blocks():
    data = job()
    shell = data["actions"][2]
    data["actions"] += [{"test": {"interactive": [{"name": "x", "prompts": ["#"], "script": []}]}}, shell, shell]
    plan = JobPlan.from_job("7", data)
    tests = plan.section("test")
    assert [plan.test_stage(b) for b in plan.test_shell_blocks] == [0, 1, 2]
    with pytest.raises(JobError, match=r"actions\[3\].test: not a test-shell block"):
        plan.test_stage(tests[1])
    pipeline, _ = build_pipeline(data, device(), "7")
    stages = [a.pipeline.actions[0].stage for a in pipeline.actions if a.name == "lava-test-retry"]
    assert stages == [0, 1, 2]


def test_job_wide_settings_are_typed_fields():
    data = {**job(), "tags": ["a", 3], "context": {"arch": "x86_64"}, "environment": {"K": "v"}}
    data["actions"][0]["deploy"]["os"] = "debian"
    plan = JobPlan.from_job("7", data)
    assert plan.tags == ("a", "3") and plan.context["arch"] == "x86_64" and plan.environment == {"K": "v"}
    assert plan.deploy_os == "debian" and plan.needs_overlay


def test_every_method_names_its_schema_fragment_and_section():
    for section, methods in METHODS.items():
        for method in methods:
            assert method.section == section, method
            expected = COMMAND if section == "command" else SCHEMAS[section][method.name]
            assert method.schema is expected, method


def test_refusal_names_every_method_and_its_reason():
    data = job()
    data["actions"][0]["deploy"]["to"] = "nbd"
    with pytest.raises(JobError) as err:
        build_pipeline(data, device(), "1")
    assert "actions[0].deploy: no method accepts this block" in str(err.value)
    assert "TmpfsDeploy: 'to' is not 'tmpfs'" in str(err.value) and "TftpDeploy: 'to' is not 'tftp'" in str(err.value)


class Sink(list):
    def write(self, line):
        self.append(line)

    def flush(self):
        pass


class Remember(Action):
    name = "remember"

    def __init__(self, label):
        super().__init__()
        self.label = label
        self.seen = None

    def run(self, ctx):
        self.seen = dict(ctx.downloaded)
        ctx.downloaded[self.label] = ctx.namespace


def test_each_namespace_has_its_own_deploy_state():
    ctx = JobContext(job_id="1", job={}, device=device(), dispatcher=None, logger=JobLogger(stream=Sink()))
    pipeline = Pipeline()
    first = pipeline.add_action(Remember("kernel"), {"namespace": "host"})
    second = pipeline.add_action(Remember("rootfs"), {"namespace": "target"})
    third = pipeline.add_action(Remember("dtb"), {"namespace": "host"})
    pipeline.run_actions(ctx)
    assert first.seen == {} and second.seen == {}
    assert third.seen == {"kernel": "host"}
    assert ctx.namespaces["target"].downloaded == {"rootfs": "target"}
    assert ctx.namespace == DEFAULT_NAMESPACE


def test_child_actions_inherit_the_namespace_of_their_block():
    data = job()
    for item in data["actions"]:
        next(iter(item.values()))["namespace"] = "vm"
    pipeline, _ = build_pipeline(data, device(), "1")
    stack = list(pipeline.actions[:-1])
    while stack:
        action = stack.pop()
        assert action.namespace == "vm", action.name
        stack.extend(action.pipeline.actions if action.pipeline else [])
    assert pipeline.actions[-1].namespace == DEFAULT_NAMESPACE


def test_every_builtin_device_command_runs_from_the_device_commands():
    raw = yaml.safe_load((HERE / "devices" / "fake-board.yaml").read_text())
    raw["commands"].update({name: f"echo {name}" for name in BUILTIN_COMMANDS if name not in raw["commands"]})
    board = parse_device(raw)
    for name in BUILTIN_COMMANDS:
        pipeline, _ = build_pipeline({"actions": [{"command": {"name": name}}]}, board, "1")
        pipeline.validate()
        assert pipeline.actions[0].errors == [], name
        assert pipeline.actions[0]._commands()[0], name
