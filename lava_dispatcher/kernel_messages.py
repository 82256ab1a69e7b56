"""Kernel problems on the console: oops, panic, BUG, KASAN, KFENCE, WARNING...

Fed one console line at a time. A start line opens a capture that ends at
the kernel's end marker or after a bounded number of lines, so a noisy
console can never make the search window grow without limit.
"""

from __future__ import annotations

import re

from lava_common.records import field, record

MAX_CAPTURE_LINES = 200
ABSORB_LINES = 3
PANIC_PATTERN = r"Kernel panic - not syncing"

# (kind, start pattern) in priority order: the first match names the problem
_STARTS: list[tuple[str, re.Pattern[str]]] = [
    ("panic", re.compile(PANIC_PATTERN)),
    ("kasan", re.compile(r"BUG: KASAN:")),
    ("kfence", re.compile(r"BUG: KFENCE:")),
    ("kcsan", re.compile(r"BUG: KCSAN:")),
    ("exception", re.compile(r"-+\[ cut here \]-+")),
    ("fault", re.compile(r"Unhandled fault")),
    ("oops", re.compile(r"Internal error: Oops|\bOops\b")),
    ("bug", re.compile(r"kernel BUG at|\bBUG:")),
    ("invalid opcode", re.compile(r"invalid opcode:")),
    ("warning", re.compile(r"\bWARNING:")),
]
_END = re.compile(r"---\[ end |^\s*(\[[^\]]*\]\s*)?={20,}\s*$")
# inside a "cut here" block the first typed line names the problem
_REFINE = [("warning", re.compile(r"\bWARNING:")), ("bug", re.compile(r"kernel BUG at|\bBUG:"))]
ANY_START = re.compile("|".join(f"(?:{p.pattern})" for _, p in _STARTS))


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
        if not ANY_START.search(line):
            return None
        for kind, pattern in _STARTS:
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
                    for refined, pattern in _REFINE:
                        if pattern.search(line):
                            current.kind = refined
                            break
                if _END.search(line) or len(current.lines) >= self.max_lines:
                    self._open = None
                return
        kind = self._start_kind(line)
        if kind is None:
            return
        message = KernelMessage(kind, [line])
        self.found.append(message)
        if not _END.search(line):
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
