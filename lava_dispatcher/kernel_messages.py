"""Kernel problems on the console: oops, panic, BUG, KASAN, KFENCE, WARNING...

Fed one console line at a time. A start line opens a capture that ends at
the kernel's end marker or after a bounded number of lines, so a noisy
console can never make the search window grow without limit.
"""

from __future__ import annotations

import functools
import re

from lava_common.records import field, record

MAX_CAPTURE_LINES = 200
ABSORB_LINES = 3
PANIC_PATTERN = r"Kernel panic - not syncing"

# (kind, start pattern) in priority order: the first match names the problem
_START_PATTERNS = (
    ("panic", PANIC_PATTERN),
    ("kasan", r"BUG: KASAN:"),
    ("kfence", r"BUG: KFENCE:"),
    ("kcsan", r"BUG: KCSAN:"),
    ("exception", r"-+\[ cut here \]-+"),
    ("fault", r"Unhandled fault"),
    ("oops", r"Internal error: Oops|\bOops\b"),
    ("bug", r"kernel BUG at|\bBUG:"),
    ("invalid opcode", r"invalid opcode:"),
    ("warning", r"\bWARNING:"),
)
_END_PATTERN = r"---\[ end |^\s*(\[[^\]]*\]\s*)?={20,}\s*$"
# inside a "cut here" block the first typed line names the problem
_REFINE_PATTERNS = (("warning", r"\bWARNING:"), ("bug", r"kernel BUG at|\bBUG:"))


class _Patterns:
    """The patterns compiled: once, when the first console line is fed (compiling them is 2 % of
    ``lava-run --validate``, which watches no console)."""

    def __init__(self) -> None:
        self.starts = [(kind, re.compile(pattern)) for kind, pattern in _START_PATTERNS]
        self.any_start = re.compile("|".join(f"(?:{pattern})" for _, pattern in _START_PATTERNS))
        self.end = re.compile(_END_PATTERN)
        self.refine = [(kind, re.compile(pattern)) for kind, pattern in _REFINE_PATTERNS]


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


@record
class KernelMessage:
    kind: str
    lines: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "\n".join(self.lines)

    def as_result(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


class KernelMessageDetector:
    def __init__(self, max_lines: int = MAX_CAPTURE_LINES) -> None:
        self.max_lines = max_lines
        self.found: list[KernelMessage] = []
        self._open: KernelMessage | None = None

    @staticmethod
    def _start_kind(line: str) -> str | None:
        if not _patterns().any_start.search(line):
            return None
        for kind, pattern in _patterns().starts:
            if pattern.search(line):
                return kind
        return None

    def feed(self, line: str) -> None:
        current = self._open
        if current is not None:
            kind = self._start_kind(line)
            # the first lines of a report often repeat the headline ("kernel BUG at" then
            # "Internal error: Oops - BUG"); later start lines are new problems, and a panic
            # always gets its own entry
            absorbed = len(current.lines) < ABSORB_LINES and kind != "panic"
            if kind is not None and not absorbed and not (kind == "panic" and current.kind == "panic"):
                self._open = None
            else:
                current.lines.append(line)
                if current.kind == "exception":
                    for refined, pattern in _patterns().refine:
                        if pattern.search(line):
                            current.kind = refined
                            break
                if _patterns().end.search(line) or len(current.lines) >= self.max_lines:
                    self._open = None
                return
        kind = self._start_kind(line)
        if kind is None:
            return
        message = KernelMessage(kind, [line])
        self.found.append(message)
        if not _patterns().end.search(line):
            self._open = message

    @property
    def panic(self) -> KernelMessage | None:
        for message in self.found:
            if message.kind == "panic":
                return message
        return None

    @property
    def capturing(self) -> bool:
        return self._open is not None


def scan_text(text: str, max_lines: int = MAX_CAPTURE_LINES) -> list[KernelMessage]:
    detector = KernelMessageDetector(max_lines)
    for line in text.splitlines():
        detector.feed(line)
    return detector.found
