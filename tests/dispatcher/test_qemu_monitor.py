"""``boot: method: monitor`` on a real QEMU board: no login, a ``test: monitors`` block reads the boot."""

import subprocess

import pytest
from testimages import images, require_qemu

from .helpers import HERE, job_result, results, run_lava
from .qemu_jobs import qemu_job

pytestmark = pytest.mark.qemu


def test_monitor_boot_harvests_the_kernel_log(tmp_path):
    require_qemu("x86_64")
    job = qemu_job(images().x86_64, login=False, minutes=4)
    job["actions"][0]["deploy"]["type"] = "monitor"
    job["actions"][1]["boot"] = {"method": "monitor", "timeout": {"minutes": 2}}
    job["actions"].append({"test": {"timeout": {"minutes": 3}, "monitors": [{
        "name": "kernel-boot", "start": "Linux version", "end": "Freeing unused kernel",
        "pattern": r"(?P<test_case_id>Memory): \d+K/\d+K (?P<result>available)",
        "fixupdict": {"available": "pass"}, "expected": ["Memory", "Never-printed"],
    }]}})
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "qemu-x86_64.yaml")
    found = {r["case"]: r["result"] for r in results(records) if r["definition"] == "0_kernel-boot"}
    assert proc.returncode == 0, (job_result(records), proc.stderr[-3000:])
    assert found == {"Memory": "pass", "Never-printed": "fail"}  # the second expected, never seen
    assert subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True).returncode != 0
