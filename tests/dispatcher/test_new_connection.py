"""``boot: method: new_connection`` on a local shell standing in for a second UART (doc/dispatcher.md)."""

import yaml

from .helpers import HERE, results, run_lava


def test_a_second_console_in_its_own_namespace(tmp_path):
    device = yaml.safe_load((HERE / "devices" / "fake-board.yaml").read_text())
    device["commands"]["connections"] = {"uart1": {"connect": "env PS1='uart1# ' sh -i", "tags": []}}
    (tmp_path / "device.yaml").write_text(yaml.safe_dump(device))
    job = yaml.safe_load((HERE / "jobs" / "minimal.yaml").read_text())
    job["actions"][0]["boot"]["namespace"] = "board"  # once one action has a namespace, all need one
    job["actions"] += [
        {"boot": {"method": "new_connection", "connection": "uart1", "namespace": "uart1", "prompts": ["uart1# "]}},
        {"test": {"namespace": "uart1", "interactive": [{"name": "uart", "prompts": ["uart1# "], "script": [
            {"name": "echo", "command": "echo hel''lo", "successes": [{"message": "hello"}]}]}]}},
    ]
    proc, records, _ = run_lava(tmp_path, job, tmp_path / "device.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {(r["definition"], r["case"]): r["result"] for r in results(records)}[("0_uart", "echo")] == "pass"


def test_a_missing_console_is_named(tmp_path):
    job = yaml.safe_load((HERE / "jobs" / "minimal.yaml").read_text())
    job["actions"][0]["boot"]["namespace"] = "board"
    job["actions"].append({"boot": {"method": "new_connection", "connection": "uart9", "namespace": "uart9"}})
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "fake-board.yaml", "--validate")
    assert proc.returncode == 1
    assert "the device has no connection 'uart9' (commands.connections)" in proc.stderr
