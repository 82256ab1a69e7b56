"""The action tree: levels, timeouts (§4.6), strategies, validation, retry, skip and the job wall."""

import time

import pytest
import yaml

from lava_common.exceptions import JobError, LAVATimeoutError, TestError
from lava_common.timeouts import TimeoutSources
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.context import JobContext
from lava_dispatcher.device import parse_device
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.parser import build_pipeline
from lava_dispatcher.retry import RetryAction

from .helpers import HERE


def device(name="qemu-x86_64.yaml"):
    return parse_device(yaml.safe_load((HERE / "devices" / name).read_text()))


def job(name="qemu-tests.yaml"):
    return yaml.safe_load((HERE / "jobs" / name).read_text())


class ListOutput(list):
    def write(self, line):
        self.append(line)

    def flush(self):
        pass


def context(job_data=None):
    out = ListOutput()
    ctx = JobContext(job_id="1", job=job_data or {}, device=device(), dispatcher=None, logger=JobLogger(stream=out))
    return ctx, out


class Sleep(Action):
    name = "sleeper"

    def __init__(self, seconds, fail_times=0, error=JobError):
        super().__init__()
        self.seconds, self.fail_times, self.error, self.calls = seconds, fail_times, error, 0

    def run(self, ctx):
        self.calls += 1
        time.sleep(self.seconds)
        if self.calls <= self.fail_times:
            raise self.error("planned failure")


def test_levels_are_positions_in_the_tree():
    pipeline, _ = build_pipeline(job(), device(), "1")
    levels = [(a.level, a.name) for a in pipeline.actions]
    assert levels == [("1", "deployimages"), ("2", "boot-image-retry"), ("3", "lava-test-retry"), ("4", "finalize")]
    boot = pipeline.actions[1]
    assert [a.level for a in boot.pipeline.actions] == ["2.1", "2.2", "2.3", "2.4"]
    assert boot.pipeline.actions[0].pipeline.actions[0].level == "2.1.1"


def test_timeout_precedence():
    sources = TimeoutSources(
        job={"action": {"minutes": 1}, "actions": {"b": {"seconds": 7}}, "connection": {"seconds": 9},
             "connections": {"c": {"seconds": 11}}},
        device={"actions": {"a": {"seconds": 20}, "b": {"seconds": 21}}, "connections": {"b": {"seconds": 3}}},
    )
    assert sources.action_timeout("x", {}).duration == 60  # job timeouts.action
    assert sources.action_timeout("a", {}).duration == 20  # device beats job default
    assert sources.action_timeout("a", {"timeout": {"seconds": 5}}).duration == 5  # block timeout beats device
    assert sources.action_timeout("a", {}, parent_share=4).duration == 4  # retry share
    assert sources.action_timeout("b", {"timeout": {"seconds": 5}}).duration == 7  # job actions.<name>
    assert sources.action_timeout("b", {"timeouts": {"b": {"seconds": 2}}}).duration == 2  # block timeouts.<name>
    assert sources.action_timeout("x", {"timeout": {"seconds": 5, "skip": True}}).skip
    assert TimeoutSources({}, {}).action_timeout("x", {}).duration == 30  # ACTION_TIMEOUT
    assert sources.connection_timeout("b", 99).duration == 3
    assert sources.connection_timeout("c", 99).duration == 11
    assert sources.connection_timeout("z", 99).duration == 9


def test_no_strategy_lists_every_reason():
    data = job()
    data["actions"][1]["boot"]["method"] = "magic"
    with pytest.raises(JobError) as err:
        build_pipeline(data, device(), "1")
    message = str(err.value)
    assert "actions[1].boot" in message
    assert "QemuBoot" in message and "UBootBoot" in message and "MinimalBootStrategy" in message


def test_bad_action_list_is_reported_with_its_path():
    with pytest.raises(JobError, match=r"actions\[0\]: unknown action type 'reboot'"):
        build_pipeline({"actions": [{"reboot": {}}]}, device(), "1")


def test_repeat_with_failure_retry_repeats_the_retried_block():
    # accepted as in the reference: each of the repeats retries on failure
    data = job()
    data["actions"][1]["boot"].update(repeat=2, failure_retry=3)
    pipeline, _ = build_pipeline(data, device(), "1")
    repeat = pipeline.actions[1]
    assert repeat.name == "repeat" and len(repeat.pipeline.actions) == 2


def test_validate_collects_errors():
    data = job()
    data["actions"][1]["boot"]["prompts"] = ["root@(debian"]
    data["actions"][0]["deploy"]["images"]["kernel"]["url"] = "ftp://x/y"
    pipeline, _ = build_pipeline(data, device(), "1")
    pipeline.validate()
    errors = [e for a in pipeline.actions for e in a.all_errors()]
    assert any("unsupported scheme 'ftp'" in e for e in errors)
    assert any("is not a valid regular expression" in e for e in errors)


def _names(action) -> list[str]:
    return [action.name, *(name for child in (action.pipeline.actions if action.pipeline else [])
                           for name in _names(child))]


def test_a_boot_without_prompts_waits_for_no_shell():
    # the reference's rule: no prompts, no login (kvm-notest-noprompts, qemu-monitor)
    data = job()
    del data["actions"][1]["boot"]["prompts"]
    pipeline, _ = build_pipeline(data, device(), "1")
    pipeline.validate()
    assert not [e for a in pipeline.actions for e in a.all_errors()]
    names = _names(pipeline.actions[1])
    assert "auto-login-action" not in names and "expect-shell-connection" not in names


def test_a_test_shell_after_a_boot_without_prompts_knows_the_earlier_ones():
    # kvm-multi: the second boot of the same board gives no prompts
    data = job()
    prompts = data["actions"][1]["boot"]["prompts"]
    second_boot = {key: value for key, value in data["actions"][1]["boot"].items() if key != "prompts"}
    data["actions"] += [{"boot": second_boot}, data["actions"][2]]
    pipeline, _ = build_pipeline(data, device(), "1")
    shells = [a for top in pipeline.actions for a in top.pipeline.actions if a.name == "lava-test-shell"]
    assert [shell.prompts for shell in shells] == [list(prompts), list(prompts)]


def test_retry_runs_until_success():
    ctx, out = context()
    retry = RetryAction(max_retries=3)
    retry.sleep = 0
    pipeline = Pipeline()
    pipeline.add_action(retry, {})
    flaky = Sleep(0, fail_times=2)
    retry.new_pipeline().add_action(flaky, {})
    retry.sleep = 0.0
    retry.parameters["failure_retry_interval"] = 0.01
    pipeline.run_actions(ctx)
    assert flaky.calls == 3
    assert sum("failed: " in line for line in out) == 2


def test_action_timeout_and_skip():
    ctx, out = context()
    pipeline = Pipeline()
    slow = pipeline.add_action(Sleep(2), {"timeout": {"seconds": 1, "skip": True}})
    after = pipeline.add_action(Sleep(0), {})
    pipeline.run_actions(ctx)
    assert after.calls == 1 and slow.errors
    strict = Pipeline()
    strict.add_action(Sleep(2), {"timeout": {"seconds": 1}})
    started = time.monotonic()
    with pytest.raises(LAVATimeoutError, match="sleeper timed out after 1 seconds"):
        strict.run_actions(ctx)
    assert time.monotonic() - started < 1.5


def test_job_wall_is_not_skipped():
    ctx, _ = context()
    pipeline = Pipeline()
    pipeline.add_action(Sleep(3), {"timeout": {"seconds": 10, "skip": True}})
    wall = ctx.deadlines.push("job", 1)
    with pytest.raises(LAVATimeoutError, match="job timed out"):
        pipeline.run_actions(ctx)
    ctx.deadlines.pop(wall)


def test_failed_action_records_a_fail_result():
    ctx, out = context()
    pipeline = Pipeline()
    pipeline.add_action(Sleep(0, fail_times=1, error=TestError), {})
    with pytest.raises(TestError):
        pipeline.run_actions(ctx)
    assert any('"case": "sleeper"' in line and '"result": "fail"' in line for line in out)


def test_repeat_builds_n_children():
    data = job("minimal.yaml")
    data["actions"][0]["boot"]["repeat"] = 3
    pipeline, _ = build_pipeline(data, device("fake-board.yaml"), "1")
    assert [a.level for a in pipeline.actions[0].pipeline.actions] == ["1.1", "1.2", "1.3"]
