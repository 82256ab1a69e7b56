"""The job log: YAML-lines records to stderr and to ``logs.yaml``.

Console output can arrive at tens of thousands of lines per second, so the
writers are buffered and flushed once per batch (``flush()``), not per line.
"""

from __future__ import annotations

import sys
from json.encoder import encode_basestring
from typing import IO, Any

from lava_common.constants import LOG_LINE_LIMIT
from lava_common.log import format_record, utc_now_iso

# "event" is a server-side level; tuxrun crashes on any level outside these nine
EMITTED_LEVELS = frozenset(
    {"exception", "error", "warning", "info", "debug", "input", "target", "feedback", "results"}
)
MASK = "[MASKED]"
# ASCII lines this short can never hit the record length cap, even fully escaped (\u00XX = 6x)
_FAST_LIMIT = (LOG_LINE_LIMIT - 200) // 6


class JobLogger:
    """Writes records; remembers the line index of test-case markers for ``starttc``/``endtc``."""

    def __init__(self, log_file: IO[str] | None = None, stream: IO[str] | None = None, debug: bool = True):
        self._outputs: list[IO[str]] = [out for out in (stream, log_file) if out is not None]
        self._log_file = log_file
        self.debug_enabled = debug
        self.line_count = 0
        self._secrets: list[str] = []
        self._markers: dict[str, dict[str, int]] = {}

    def add_secret(self, value: str) -> None:
        if value and value not in self._secrets:
            # longest first so that a secret containing another is masked whole
            self._secrets.append(value)
            self._secrets.sort(key=len, reverse=True)

    def _mask(self, msg: Any) -> Any:
        if isinstance(msg, str):
            for secret in self._secrets:
                if secret in msg:
                    msg = msg.replace(secret, MASK)
            return msg
        if isinstance(msg, dict):
            return {key: self._mask(value) for key, value in msg.items()}
        if isinstance(msg, list):
            return [self._mask(value) for value in msg]
        return msg

    def write(self, level: str, msg: Any, ns: str | None = None, flush: bool = True) -> None:
        if level not in EMITTED_LEVELS:
            raise ValueError(f"log level {level!r} is not one the dispatcher may emit")
        if self._secrets:
            msg = self._mask(msg)
        line = format_record(level, msg, ns=ns) + "\n"
        for out in list(self._outputs):
            try:
                # logs.yaml is a YAML list ("- {...}"); the stream carries bare maps, one per line,
                # which is what tuxrun and LAVA's own stderr handler read
                out.write(line if out is self._log_file else line[2:])
            except (OSError, ValueError):
                # a reader that went away (closed pipe) must not stop the job; logs.yaml keeps it all
                if out is not self._log_file:
                    self._outputs.remove(out)
                    continue
                raise
        self.line_count += 1
        if flush:
            self.flush()

    def target_lines(self, lines: list[str]) -> None:
        """Many console lines at once: one write per output for the whole batch (the hot path)."""
        if self._secrets:
            lines = [self._mask(line) for line in lines]
        # the lines of one read arrived together: one timestamp, and plain ASCII lines (nearly all
        # console output) skip the general formatter; it yields exactly format_record's text
        dt = utc_now_iso()
        head = f'- {{"dt": "{dt}", "lvl": "target", "msg": '
        records = [
            f"{head}{encode_basestring(line)}}}\n"
            if line.isascii() and "\x7f" not in line and len(line) < _FAST_LIMIT
            else format_record("target", line, dt=dt) + "\n"
            for line in lines
        ]
        bare = None
        for out in list(self._outputs):
            try:
                if out is self._log_file:
                    out.write("".join(records))
                else:
                    if bare is None:
                        bare = "".join(record[2:] for record in records)
                    out.write(bare)
            except (OSError, ValueError):
                if out is self._log_file:
                    raise
                self._outputs.remove(out)
        self.line_count += len(records)

    def flush(self) -> None:
        for out in list(self._outputs):
            try:
                out.flush()
            except (OSError, ValueError):
                pass  # a closed stderr (parent gone) must not kill the job

    # level helpers
    def info(self, msg: Any) -> None:
        self.write("info", msg)

    def debug(self, msg: Any) -> None:
        if self.debug_enabled:
            self.write("debug", msg)

    def warning(self, msg: Any) -> None:
        self.write("warning", msg)

    def error(self, msg: Any) -> None:
        self.write("error", msg)

    def exception(self, msg: Any) -> None:
        self.write("exception", msg)

    def input(self, msg: str) -> None:
        self.write("input", msg)

    def target(self, msg: str, flush: bool = True) -> None:
        self.write("target", msg, flush=flush)

    def marker(self, case: str, kind: str) -> None:
        """Remember the current line for the next result of ``case`` (kind: starttc|endtc)."""
        self._markers.setdefault(case, {})[kind] = self.line_count

    def results(self, result: dict[str, Any]) -> None:
        case = result.get("case")
        if isinstance(case, str) and case in self._markers:
            result = {**result, **self._markers.pop(case)}
        self.write("results", result)

    def close(self) -> None:
        self.flush()
        if self._log_file is not None:
            self._log_file.close()
            self._outputs.remove(self._log_file)
            self._log_file = None


def stderr_logger(log_path: str | None, debug: bool = True) -> JobLogger:
    log_file = open(log_path, "w", encoding="utf-8", buffering=1 << 16) if log_path else None  # noqa: SIM115
    return JobLogger(log_file=log_file, stream=sys.stderr, debug=debug)
