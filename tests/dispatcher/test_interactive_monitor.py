"""Interactive scripts and monitors, on local fake boards (a shell, a self-testing "RTOS")."""

import yaml

from .helpers import HERE, job_result, results, run_lava

MONITOR_BOARD = (
    "sh -c 'printf \"board# \"; read x; printf \"board# \"; echo; echo BOOTING TESTS; "
    "echo \"PASS - alpha\"; echo \"FAIL - beta\"; echo \"PASS - gamma 3.5 ms\"; echo ALL DONE; sleep 30'"
)


def _job(tests, prompt="fake-board# "):
    return {
        "job_name": "fake", "device_type": "fake", "visibility": "public",
        "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 20}, "connection": {"seconds": 10}},
        "actions": [{"boot": {"method": "minimal", "reset": False, "prompts": [prompt]}}, {"test": tests}],
    }


def test_interactive_steps(tmp_path):
    tests = {"interactive": [{"name": "shell", "prompts": ["fake-board# "], "script": [
        {"name": "hello", "command": "echo hel''lo", "successes": [{"message": "hello"}]},
        {"name": "missing", "command": "echo nothing", "successes": [{"message": "never-printed"}]},
        {"name": "bad", "command": "echo boom", "failures": [{"message": "boom"}]},
        {"command": "true"},
    ]}]}
    proc, records, _ = run_lava(tmp_path, _job(tests), HERE / "devices" / "fake-board.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_shell", "hello")] == "pass"
    assert found[("0_shell", "missing")] == "fail"
    assert found[("0_shell", "bad")] == "fail"


def test_interactive_failure_exception_ends_the_job(tmp_path):
    tests = {"interactive": [{"name": "shell", "prompts": ["fake-board# "], "script": [
        {"name": "explode", "command": "echo kaboom",
         "failures": [{"message": "kaboom", "exception": "InfrastructureError", "error": "board exploded"}]},
    ]}]}
    proc, records, _ = run_lava(tmp_path, _job(tests), HERE / "devices" / "fake-board.yaml")
    assert proc.returncode == 1
    assert job_result(records)["error_type"] == "Infrastructure"
    assert "board exploded" in job_result(records)["error_msg"]


def test_monitor_harvests_results(tmp_path):
    device = yaml.safe_load((HERE / "devices" / "fake-board.yaml").read_text())
    device["commands"]["connect"] = MONITOR_BOARD
    device_path = tmp_path / "device.yaml"
    device_path.write_text(yaml.safe_dump(device))
    tests = {"monitors": [{"name": "rtos", "start": "BOOTING TESTS", "end": "ALL DONE",
                           "pattern": r"(?P<result>PASS|FAIL) - (?P<test_case_id>\w+)( (?P<measurement>[0-9.]+) (?P<units>\w+))?",
                           "fixupdict": {"PASS": "pass", "FAIL": "fail"}, "expected": ["alpha", "delta"]}]}
    proc, records, _ = run_lava(tmp_path, _job(tests, prompt="board# "), device_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = {(r["definition"], r["case"]): r for r in results(records)}
    assert found[("0_rtos", "alpha")]["result"] == "pass"
    assert found[("0_rtos", "beta")]["result"] == "fail"
    assert found[("0_rtos", "gamma")]["measurement"] == 3.5 and found[("0_rtos", "gamma")]["units"] == "ms"
    assert found[("0_rtos", "delta")]["result"] == "fail"  # expected but never reported
