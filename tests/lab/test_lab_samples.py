"""Which sample jobs the lab submits for the boards it was given (no lab started)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

LAB = Path(__file__).resolve().parents[2] / "share" / "lab"
sys.path.insert(0, str(LAB))
import catalog  # noqa: E402
from provision import SHIPPED_IMAGES, runnable, write_sample_jobs  # noqa: E402


def sample(name: str) -> dict:
    return yaml.safe_load((LAB / "jobs" / name).read_text())


def test_the_multinode_sample_needs_both_default_qemu_boards():
    group = sample("multinode-qemu.yaml")
    assert runnable(group, catalog.choose("default"))
    assert not runnable(group, catalog.choose("qemu-x86-64-01,uboot-arm64-01"))
    assert not runnable(group, catalog.choose("qemu-arm64-01"))


def test_a_single_board_sample_needs_a_board_of_its_type_with_its_tags():
    assert runnable(sample("qemu-arm64.yaml"), catalog.choose("qemu-arm64-01"))
    assert not runnable(sample("qemu-arm64.yaml"), catalog.choose("qemu-x86-64-01"))
    assert not runnable(sample("nfs-arm64.yaml"), catalog.choose("default"))
    assert runnable(sample("nfs-arm64.yaml"), catalog.choose("nfs-arm64-01"))


def test_the_lab_writes_the_jobs_its_boards_can_run_with_its_own_images(tmp_path):
    folder = tmp_path / "sample-jobs"
    images = tmp_path / "images"
    ready = write_sample_jobs(folder, images, catalog.choose("default"))
    assert [path.name for path in ready] == [
        "multinode-qemu.yaml", "qemu-arm64.yaml", "qemu-uboot-arm64.yaml", "qemu-x86_64.yaml"]
    text = (folder / "qemu-x86_64.yaml").read_text()
    assert f"file://{images}/x86_64/bzImage" in text and SHIPPED_IMAGES not in text
    (folder / "my-own.yaml").write_text("mine")
    # started again with fewer boards: what they cannot run goes, what the user put there stays
    ready = write_sample_jobs(folder, images, catalog.choose("qemu-arm64-01"))
    assert sorted(path.name for path in folder.iterdir()) == ["my-own.yaml", "qemu-arm64.yaml"]
    assert ready == [folder / "qemu-arm64.yaml"]
