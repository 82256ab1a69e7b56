"""Kernel problem detection on real console logs (the shared corpus) and synthetic ones."""

import pytest

from lava_dispatcher.kernel_messages import MAX_CAPTURE_LINES, KernelMessageDetector, scan_text

from .helpers import CORPUS

LOGS = CORPUS / "kernel-logs"


def kinds(name):
    if not LOGS.is_dir():
        pytest.skip("shared corpus not available")
    return [m.kind for m in scan_text((LOGS / name).read_text(errors="replace"))]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("kernel-panic.txt", {"panic"}),
        ("kernel-kasan.txt", {"kasan"}),
        ("kernel-kfence.txt", {"kfence"}),
        ("kernel-bug.txt", {"bug"}),
        ("kernel-4.txt", {"oops", "panic"}),
        ("kernel-1.txt", set()),
        ("kernel-login-error.txt", set()),
    ],
)
def test_corpus_logs(name, expected):
    assert set(kinds(name)) == expected


def test_warnings_with_cut_here_blocks():
    found = kinds("kernel-2.txt")
    assert found.count("warning") >= 12


def test_panic_after_oops_gets_its_own_entry():
    found = kinds("kernel-4.txt")
    assert found == ["oops", "panic"]


def test_capture_window_is_bounded():
    detector = KernelMessageDetector()
    detector.feed("[ 1.0] BUG: something odd")
    for i in range(MAX_CAPTURE_LINES * 3):
        detector.feed(f"[ 1.{i}] noise line {i}")
    assert len(detector.found) == 1
    assert len(detector.found[0].lines) == MAX_CAPTURE_LINES
    assert not detector.capturing


def test_end_marker_closes_capture():
    text = "\n".join(["------------[ cut here ]------------", "WARNING: CPU: 1 PID: 2 at x.c:3 f+0x1/0x2",
                      "stack", "---[ end trace 0000000000000000 ]---", "normal line"])
    found = scan_text(text)
    assert [m.kind for m in found] == ["warning"] and len(found[0].lines) == 4
