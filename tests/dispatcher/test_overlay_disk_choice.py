"""Where ``deploy: to: tmpfs`` puts the test overlay when the job has a ramdisk: into it, unless the job's own
QEMU arguments attach the overlay disk (``-device ...,drive=lavatest``, as the reference's
docs/qemu-vexpress-a9.yaml does), which then must exist."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from lava_dispatcher.device import parse_device
from lava_dispatcher.parser import build_pipeline

HERE = Path(__file__).parent
JOB = yaml.safe_load((HERE / "jobs" / "qemu-tests.yaml").read_text())
DEVICE = parse_device(yaml.safe_load((HERE / "devices" / "qemu-arm64.yaml").read_text()))


def deploy_actions(extra_options: list[str] | None = None, image_arg: str | None = None) -> list[str]:
    job = copy.deepcopy(JOB)
    if extra_options is not None:
        job["context"]["extra_options"] = extra_options
    if image_arg is not None:
        job["actions"][0]["deploy"]["images"]["ramdisk"]["image_arg"] = image_arg
    pipeline, _ = build_pipeline(job, DEVICE, "1")
    return [action["name"] for action in pipeline.describe()[0]["pipeline"]]


def test_the_ramdisk_carries_the_overlay_by_default() -> None:
    names = deploy_actions()
    assert "apply-overlay" in names and "apply-overlay-guest" not in names


@pytest.mark.parametrize("extra_options,image_arg", [
    (["-device virtio-blk-device,drive=lavatest"], None),
    (["-device ide-hd,drive=lavatest,bus=ide.0"], None),
    (None, "-initrd {ramdisk} -device virtio-blk-device,drive=lavatest"),
])
def test_a_job_that_attaches_the_overlay_disk_gets_it(extra_options, image_arg) -> None:
    names = deploy_actions(extra_options, image_arg)
    assert "apply-overlay-guest" in names and "apply-overlay" not in names


def test_another_drive_id_is_not_the_overlay_disk() -> None:
    names = deploy_actions(["-device virtio-blk-device,drive=lavatest2"])
    assert "apply-overlay" in names and "apply-overlay-guest" not in names
