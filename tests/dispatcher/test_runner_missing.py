"""A board without the test overlay: the test shell ends at once, saying so, not at its timeout.

The local-shell board gets an overlay built on the worker (``to: overlay``) that nothing puts on
the board, as when a job unpacks its overlay somewhere the booted system does not look.
"""

from __future__ import annotations

import time

import yaml

from .helpers import HERE, job_result, run_lava


def test_a_missing_test_runner_is_a_job_error_at_once(tmp_path):
    device = yaml.safe_load((HERE / "devices" / "fake-board.yaml").read_text())
    device["actions"]["deploy"]["methods"]["overlay"] = None
    device_path = tmp_path / "device.yaml"
    device_path.write_text(yaml.safe_dump(device))
    definition = {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke"},
                  "run": {"steps": ["echo hello"]}}
    job = {
        "job_name": "runner missing", "device_type": "fake", "visibility": "public",
        "timeouts": {"job": {"minutes": 5}, "action": {"minutes": 2}},
        "actions": [
            {"deploy": {"to": "overlay"}},
            {"boot": {"method": "minimal", "reset": False, "prompts": ["fake-board# "]}},
            {"test": {"definitions": [{"from": "inline", "name": "smoke", "path": "inline/smoke.yaml",
                                       "repository": definition}]}},
        ],
    }
    started = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, device_path, timeout=120)
    assert proc.returncode != 0
    result = job_result(records)
    assert result["error_type"] == "Job", result
    assert "the board has no test runner at /lava-1/bin (lava-test-runner: not found)" in result["error_msg"]
    assert time.monotonic() - started < 30  # not the action's two minutes
