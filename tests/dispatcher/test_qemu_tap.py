"""``context: netdevice: tap``: accepted only where the device dictionary gives the worker's tap network.

The job says only ``tap``; the admin's ``tap_bridge`` (QEMU's bridge helper) or ``tap_interface``
(a tap the admin created) is what reaches QEMU. Without either, ``lava-run --validate`` refuses
the job and says why; a tap the job describes itself (``tap,script=...``) is refused everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lava_dispatcher.qemu_args import check_context
from lava_scheduler.device_config import render_device_config

from .helpers import REPO, job_result, run_lava

JOB = {
    "job_name": "tap network",
    "device_type": "qemu",
    "visibility": "public",
    "timeouts": {"job": {"minutes": 5}},
    "context": {"arch": "arm64", "netdevice": "tap"},
    "actions": [
        {"deploy": {"to": "tmpfs", "images": {
            "kernel": {"url": "http://images.example/Image", "image_arg": "-kernel {kernel}"}}}},
        {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "]}},
    ],
}


def device_file(tmp_path: Path, dictionary_lines: str, context: dict) -> Path:
    config = render_device_config("qemu-01", "{% extends 'qemu.jinja2' %}\n" + dictionary_lines, context,
                                  device_types_paths=[REPO / "device-types"])
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def network_option(path: Path) -> str:
    options = yaml.safe_load(path.read_text())["actions"]["boot"]["methods"]["qemu"]["parameters"]["options"]
    return next(option for option in options if option.startswith("-net "))


@pytest.mark.parametrize(("lines", "backend"), [
    ("{% set tap_bridge = 'lavabr0' %}", "-net bridge,br=lavabr0"),
    ("{% set tap_bridge = 'lavabr0' %}{% set tap_bridge_helper = '/usr/lib/qemu/qemu-bridge-helper' %}",
     "-net bridge,br=lavabr0,helper=/usr/lib/qemu/qemu-bridge-helper"),
    ("{% set tap_interface = 'tap-qemu01' %}", "-net tap,ifname=tap-qemu01,script=no,downscript=no"),
])
def test_a_device_with_a_tap_network_takes_a_tap_job(tmp_path: Path, lines: str, backend: str) -> None:
    device = device_file(tmp_path, lines, JOB["context"])
    assert network_option(device).endswith(backend)
    proc, records, _ = run_lava(tmp_path, JOB, device, "--validate")
    assert job_result(records)["result"] == "pass", proc.stderr[-1500:]


def test_a_device_without_one_refuses_it_and_says_why(tmp_path: Path) -> None:
    device = device_file(tmp_path, "", JOB["context"])
    proc, records, _ = run_lava(tmp_path, JOB, device, "--validate")
    result = job_result(records)
    assert proc.returncode == 1 and result["result"] == "fail"
    assert ("context.netdevice: 'tap': this device has no tap network on its worker (its dictionary sets "
            "neither tap_bridge nor tap_interface)") in result["error_msg"]


@pytest.mark.parametrize("netdevice", ["tap,script=/tmp/x", "tap,ifname=eth0", "bridge,br=br0"])
def test_a_tap_the_job_describes_is_refused_even_on_a_tap_device(netdevice: str) -> None:
    errors = check_context({"netdevice": netdevice}, tap_network="bridge,br=lavabr0")
    assert errors and errors[0].startswith("context.netdevice"), errors
