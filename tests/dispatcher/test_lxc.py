"""LXC devices, run for real: a busybox container in the job's scratch space, destroyed afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lava_dispatcher.lxc_cli import protocol_errors, settings
from lava_scheduler.device_config import render_device_yaml

from .docker_fixtures import host_state
from .helpers import REPO, job_result, results, run_lava
from .qemu_jobs import inline

DEVICE_TYPES = [REPO / "device-types"]
PROTOCOL = {"name": "lxc-test", "template": "busybox", "distribution": "debian", "release": "bookworm",
            "arch": "amd64"}


def lxc_state() -> dict[str, object]:
    """What LXC could leave on the host: cgroups, lock folders, containers of the host's own path."""
    return {
        "cgroups": sorted(str(p) for p in Path("/sys/fs/cgroup").glob("*/lxc*")),
        "locks": os.path.exists("/run/lxc"),
        "host containers": subprocess.run(["lxc-ls", "-1"], capture_output=True, text=True).stdout,
    }


def lxc_job(definitions: list, protocol: dict | None = None) -> dict:
    return {
        "job_name": "lxc device", "device_type": "lxc", "visibility": "public",
        "timeouts": {"job": {"minutes": 3}, "action": {"minutes": 2}, "connection": {"seconds": 30}},
        "protocols": {"lava-lxc": protocol or PROTOCOL},
        "actions": [
            {"deploy": {"to": "lxc", "os": "debian", "timeout": {"minutes": 2}}},
            {"boot": {"method": "lxc", "prompts": [r"[/~] # "], "timeout": {"minutes": 1}}},
            {"test": {"definitions": definitions, "timeout": {"minutes": 1}}},
        ],
    }


def test_lxc_device_runs_the_test_shell_in_the_container(tmp_path):
    for tool in ("lxc-create", "lxc-start", "lxc-attach"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (apt-get install lxc)")
    if os.geteuid() != 0:
        pytest.skip("LXC system containers need root")
    before, lxc_before = host_state(), lxc_state()
    device = tmp_path / "device.yaml"
    device.write_text(render_device_yaml("lxc-01", "{% extends 'lxc.jinja2' %}\n", device_types_paths=DEVICE_TYPES))
    steps = [
        'lava-test-case hostname --shell test "$(hostname)" = lxc-test-1',
        "lava-test-case no-network --shell test ! -e /sys/class/net/eth0",
        "lava-test-case broken --shell false",
    ]
    proc, records, _ = run_lava(tmp_path, lxc_job([inline("smoke", steps)]), device, timeout=200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "hostname")] == "pass"
    assert found[("0_smoke", "no-network")] == "pass"
    assert found[("0_smoke", "broken")] == "fail"
    assert job_result(records)["result"] == "pass"
    assert subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True).returncode != 0
    assert not (tmp_path / "dl").exists() or not any((tmp_path / "dl").rglob("rootfs"))
    assert host_state() == before and lxc_state() == lxc_before


def test_the_protocol_is_checked_with_its_path():
    assert protocol_errors(None) == [
        "protocols.lava-lxc: the job needs this protocol (a mapping with name and template) for lxc"]
    errors = protocol_errors({"name": "a b", "template": "../x", "mirror": "file:///etc"})
    assert "protocols.lava-lxc.name: must be one word of letters, digits, '_', '.', '-'" in errors
    assert any(e.startswith("protocols.lava-lxc.template") for e in errors)
    assert "protocols.lava-lxc.mirror: must be an http(s) URL" in errors
    chosen = settings({"name": "c", "template": "download", "distribution": "debian", "release": "bookworm",
                       "arch": "amd64"}, "7")
    assert chosen.name == "c-7"
    assert chosen.template_args == ("--dist", "debian", "--release", "bookworm", "--arch", "amd64")
    assert settings(PROTOCOL, "7").template_args == ()
