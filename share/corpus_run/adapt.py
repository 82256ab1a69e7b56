"""A whole job adapted: the board of its architecture, the prompts' board, QEMU's words, its timeouts, its
device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus_run.adapter import Adapter
from corpus_run.board_archive import Board, board_for
from corpus_run.boards import board_of, docker_device, qemu_device, wants_tap
from corpus_run.images import ARCH_BUILDS, build_images
from corpus_run.left_out import LeftOut
from corpus_run.peers import FILES

# job text the QEMU we run (7.2) refuses: (machine or None for any, context key, the job's word, ours, why);
# applied to the job's context and said on its line
QEMU_FIXES = (
    (None, "extra_options", "virtio-bk-device", "virtio-blk-device", "QEMU has no device 'virtio-bk-device' (a typo)"),
    ("cubieboard", "cpu", "cortex-a7", "cortex-a8", "QEMU's cubieboard takes only the A10's own cortex-a8"),
)
UNITS = {"hours", "minutes", "seconds"}


def scale_timeouts(value: Any, factor: float) -> None:
    """Multiply every duration (a mapping of hours/minutes/seconds) of a job or device by ``factor``, in place."""
    if isinstance(value, list):
        for item in value:
            scale_timeouts(item, factor)
    elif isinstance(value, dict):
        for item in value.values():
            if isinstance(item, dict) and UNITS & set(item):  # a duration: {minutes: 5}
                for unit in UNITS & set(item):
                    if isinstance(item[unit], (int, float)):
                        scaled = item[unit] * factor
                        item[unit] = int(scaled) if scaled == int(scaled) else scaled  # the schema wants whole numbers
            scale_timeouts(item, factor)


def adapt_job(job: dict, work: Path, repo: Path, timeout_factor: float = 1) -> tuple[dict, list[str]]:
    """The job (a MultiNode submission whole, before the split) with our images under ``work``, our test
    repository ``repo`` and the prompts' board, timeouts scaled; notes on other changes. No device: what a lab
    whose worker may read ``work`` and ``repo`` (lava-worker --allow-file-dir) takes as it is."""
    # a MultiNode submission's roles name their device types and contexts (a sub-job, split, has its own)
    roles = ((job.get("protocols") or {}).get("lava-multinode") or {}).get("roles") or {}
    whole = "device_type" not in job and roles and all(isinstance(role, dict) for role in roles.values())
    boards = {board_of({**job, **role}) for role in roles.values()} if whole else {board_of(job)}
    if len(boards) != 1:
        raise LeftOut("roles on boards of different architectures: one substituted image set per job")
    (arch, device_maker), = boards
    for script in ARCH_BUILDS.get(arch, ()):
        if reason := build_images(script):
            raise LeftOut(f"cannot build the {arch} images: {reason}")
    # a container's prompt is its image's: only the boards that boot our images take the job's
    board = Board(arch) if device_maker is docker_device else board_for(job, arch)
    board.tap = device_maker is qemu_device and wants_tap(job)
    # FILES is on 127.0.0.1, which QEMU's user network gives the board as 10.0.2.2: not a tap board's
    board.network = not board.tap and bool(FILES.url) and "__FQDN__/" in str([a.get("test") for a in job.get("actions") or []])
    adapter = Adapter(work, board, f"file://{repo}")
    adapted = adapter.job(job)
    for context in [adapted.get("context"), *(role.get("context") for role in roles.values() if isinstance(role, dict))]:
        if isinstance(context, dict):
            adapter.notes += fix_for_our_qemu(context)
    if timeout_factor != 1:
        scale_timeouts(adapted, timeout_factor)
        adapter.notes.append(f"timeouts x{timeout_factor:g}")
    return adapted, adapter.notes


def fix_for_our_qemu(context: dict) -> list[str]:
    """Replace, in place, the context's words the QEMU we run refuses (QEMU_FIXES); a note for each."""
    notes = []
    for machine, key, theirs, ours, why in QEMU_FIXES:
        value = context.get(key)
        if (machine and context.get("machine") != machine) or value is None or theirs not in str(value):
            continue
        fixed = [str(item).replace(theirs, ours) for item in value] if isinstance(value, list) else \
            str(value).replace(theirs, ours)
        context[key] = fixed
        notes.append(f"context {key}: {theirs} -> {ours} ({why})")
    return notes


def adapt(job: dict, work: Path, repo: Path, timeout_factor: float = 1) -> tuple[dict, dict, list[str]]:
    """The job with our images, test repository and prompts' board; the device; notes on other changes."""
    adapted, notes = adapt_job(job, work, repo, timeout_factor)
    device = board_of(adapted)[1](adapted, work)
    # the device's per-action timeouts too: they come before the job's default action timeout
    scale_timeouts(device, timeout_factor)
    return adapted, device, notes
