"""Turn lava-test-shell console output into results and other typed events.

Pure Python, no pexpect: whoever reads the console feeds it.

    from lava_dispatcher.test_shell.signals import SignalParser, RunInfo, Result, SignalError, ...

    parser = SignalParser(runs=[RunInfo("0_smoke", uuid="42_1.3", repository="inline",
                                        path="inline/smoke.yaml", pattern=None, expected=("a", "b"))],
                          namespace="common")
    for event in parser.feed(chunk):              # text chunks; partial lines are kept for later
        ...                                       # or parser.feed_line(line, line_index=N)
    parser.flush()                                # the last line if it had no newline

Events (frozen records, lava_common.records):
  RunStarted(definition, uuid)        <LAVA_SIGNAL_STARTRUN ...>; the definition's parse pattern is on
  RunEnded(definition, uuid)          <LAVA_SIGNAL_ENDRUN ...>, after its Result(s)
  Result(record)                      log ``record`` at level "results"; record keys as the reference:
                                      {definition: "<i>_<name>", case, result[, measurement (float),
                                      units][, set][, starttc, endtc][, reference]} or, for ENDRUN,
                                      {definition: "lava", case: "<i>_<name>", uuid, repository, path,
                                      revision[, commit_id][, namespace], duration: "1.23", result: "pass"}
  CaseMarker(case, kind, line)        STARTTC/ENDTC seen (kind "start"/"end") at that line index
  TestSetStarted(name) / TestSetStopped(name)
  Raised(message)                     <LAVA_SIGNAL_TESTRAISE>: raise TestError(message)
  TestEvent(message)                  log at level "event"
  Feedback(namespace)                 read the pending output of that namespace
  RunnerExit()                        <LAVA_TEST_RUNNER EXIT>: the stage is over
  InstallFailed()                     <LAVA_TEST_RUNNER INSTALL_FAIL>: result lava/stage_<n> fail
  SignalWarning(message)              log as a warning, go on
  SignalError(message)                invalid result or measurement: raise TestError(message)

``runs`` may also hold plain dicts with RunInfo's field names (``definition`` required).
Line indices: ``feed_line(line, line_index=i)`` uses the caller's log line numbers for
starttc/endtc; without them the parser counts the lines it was fed, from 0.
``expected``: a case of the list not reported by ENDRUN (or by RunnerExit when ENDRUN never came)
becomes a ``fail`` result; a reported case missing from the list is reported as ``fail`` too,
with a warning.
"""

from __future__ import annotations

import math
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lava_common.records import field, record

VALID_RESULTS = ("pass", "fail", "skip", "unknown")

_SIGNAL = re.compile(r"<LAVA_SIGNAL_(?P<name>[A-Z_]+)(?: (?P<args>[^<>]*))?>")
_RUNNER_EXIT = "<LAVA_TEST_RUNNER EXIT>"
_INSTALL_FAIL = "<LAVA_TEST_RUNNER INSTALL_FAIL>"
_KEY_VALUE = re.compile(r"([A-Z_]+)=(\S*)")
# terminal noise busybox ash and the tty add around lines (cursor queries, colours, CRs)
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


@record(frozen=True)
class RunInfo:
    """What the parser must know about one definition run (one ``<i>_<name>``)."""

    definition: str
    uuid: str = ""
    repository: str = ""
    path: str = ""
    revision: str = ""
    commit_id: str = ""
    pattern: str | None = None
    fixupdict: Mapping[str, str] = field(default_factory=dict)
    expected: tuple[str, ...] = ()


@record(frozen=True)
class RunStarted:
    definition: str
    uuid: str


@record(frozen=True)
class RunEnded:
    definition: str
    uuid: str


@record(frozen=True)
class Result:
    record: dict


@record(frozen=True)
class CaseMarker:
    case: str
    kind: str
    line: int


@record(frozen=True)
class TestSetStarted:
    __test__ = False
    name: str


@record(frozen=True)
class TestSetStopped:
    __test__ = False
    name: str


@record(frozen=True)
class Raised:
    message: str


@record(frozen=True)
class TestEvent:
    __test__ = False
    message: str


@record(frozen=True)
class Feedback:
    namespace: str


@record(frozen=True)
class RunnerExit:
    pass


@record(frozen=True)
class InstallFailed:
    pass


@record(frozen=True)
class SignalWarning:
    message: str


@record(frozen=True)
class SignalError:
    message: str


Event = (
    RunStarted | RunEnded | Result | CaseMarker | TestSetStarted | TestSetStopped | Raised | TestEvent
    | Feedback | RunnerExit | InstallFailed | SignalWarning | SignalError
)


def _run_info(data: Mapping[str, Any]) -> RunInfo:
    known = {name for name, _ in RunInfo.__record_fields__}
    values = {k: v for k, v in data.items() if k in known}
    if "expected" in values:
        values["expected"] = tuple(values["expected"] or ())
    return RunInfo(**values)


class _OpenRun:
    """State of the definition between its STARTRUN and ENDRUN."""

    def __init__(self, info: RunInfo, started: float) -> None:
        self.info = info
        self.started = started
        self.reported: set[str] = set()
        self.pattern = re.compile(info.pattern) if info.pattern else None


class SignalParser:
    """Feed console text; get typed events back (see the module docstring)."""

    def __init__(
        self,
        runs: Iterable[RunInfo | Mapping[str, Any]] = (),
        namespace: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # mappings with RunInfo's field names are accepted too, for callers holding plain dicts
        infos = [run if isinstance(run, RunInfo) else _run_info(run) for run in runs]
        self.runs = {run.definition: run for run in infos}
        for run in self.runs.values():
            if run.pattern:
                try:
                    re.compile(run.pattern)
                except re.error as exc:
                    raise ValueError(f"test definition {run.definition}: invalid parse pattern: {exc}") from exc
        self.namespace = namespace
        self._clock = clock
        self._buffer = ""
        self._next_line = 0
        self._run: _OpenRun | None = None
        self._last_definition = "lava"
        self._set: str | None = None
        self._starttc: dict[str, int] = {}
        self._endtc: dict[str, int] = {}

    # -- input -------------------------------------------------------------------------------

    def feed(self, text: str) -> list[Event]:
        """Feed a chunk of console output; complete lines are parsed, the rest kept."""
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        events: list[Event] = []
        for line in lines:
            events.extend(self.feed_line(line))
        return events

    def flush(self) -> list[Event]:
        """Parse what is left in the buffer as a last line."""
        rest, self._buffer = self._buffer, ""
        return self.feed_line(rest) if rest else []

    def feed_line(self, line: str, line_index: int | None = None) -> list[Event]:
        """Parse one console line; ``line_index`` is its index in the job log, when known."""
        index = self._next_line if line_index is None else line_index
        self._next_line = index + 1
        line = _ESCAPES.sub("", line)
        events: list[Event] = []
        if _RUNNER_EXIT in line:
            events.extend(self._close_run(ended=False))
            events.append(RunnerExit())
        if _INSTALL_FAIL in line:
            events.append(InstallFailed())
        signals = list(_SIGNAL.finditer(line))
        for match in signals:
            events.extend(self._signal(match.group("name"), (match.group("args") or "").strip(), index))
        if not signals and self._run is not None and self._run.pattern is not None:
            events.extend(self._pattern(line))
        return events

    # -- signals -----------------------------------------------------------------------------

    def _signal(self, name: str, args: str, index: int) -> list[Event]:
        handler = {
            "STARTRUN": self._startrun,
            "ENDRUN": self._endrun,
            "TESTCASE": self._testcase,
            "TESTREFERENCE": self._testreference,
            "TESTSET": self._testset,
        }.get(name)
        if handler is not None:
            return handler(args)
        if name in ("STARTTC", "ENDTC"):
            case = args.split(" ")[0] if args else ""
            marks = self._starttc if name == "STARTTC" else self._endtc
            marks[case] = index
            return [CaseMarker(case, "start" if name == "STARTTC" else "end", index)]
        if name == "TESTRAISE":
            return [Raised(args)]
        if name == "TESTEVENT":
            return [TestEvent(args)]
        if name == "TESTFEEDBACK":
            return [Feedback(args)]
        return [SignalWarning(f"unknown signal <LAVA_SIGNAL_{name}> ignored")]

    def _startrun(self, args: str) -> list[Event]:
        definition, _, uuid = args.partition(" ")
        events = self._close_run(ended=False)
        info = self.runs.get(definition) or RunInfo(definition, uuid=uuid)
        self._run = _OpenRun(info, self._clock())
        self._last_definition = definition
        self._set = None
        events.append(RunStarted(definition, uuid))
        return events

    def _endrun(self, args: str) -> list[Event]:
        definition, _, uuid = args.partition(" ")
        if self._run is None or self._run.info.definition != definition:
            return [SignalWarning(f"ENDRUN for {definition} without its STARTRUN")]
        return self._close_run(ended=True, uuid=uuid)

    def _close_run(self, ended: bool, uuid: str = "") -> list[Event]:
        run, self._run = self._run, None
        if run is None:
            return []
        info = run.info
        events: list[Event] = [
            Result({"definition": info.definition, "case": case, "result": "fail"})
            for case in info.expected
            if case not in run.reported
        ]
        if not ended:
            return events
        record = {
            "definition": "lava",
            "case": info.definition,
            "uuid": uuid or info.uuid,
            "repository": info.repository,
            "path": info.path,
            "revision": info.revision,
        }
        if info.commit_id:
            record["commit_id"] = info.commit_id
        if self.namespace:
            record["namespace"] = self.namespace
        record["duration"] = f"{self._clock() - run.started:.02f}"
        record["result"] = "pass"
        events.append(Result(record))
        events.append(RunEnded(info.definition, uuid or info.uuid))
        return events

    def _testcase(self, args: str) -> list[Event]:
        fields = dict(_KEY_VALUE.findall(args))
        case, result = fields.get("TEST_CASE_ID"), fields.get("RESULT")
        if not case or result is None:
            return [SignalError(f"test case signal without TEST_CASE_ID or RESULT: '{args}'")]
        return self._case(case, result, fields.get("MEASUREMENT"), fields.get("UNITS"))

    def _testreference(self, args: str) -> list[Event]:
        parts = args.split(" ")
        if len(parts) != 3:
            return [SignalError(f"test reference signal needs 'case result url': '{args}'")]
        return self._case(parts[0], parts[1], None, None, reference=parts[2])

    def _testset(self, args: str) -> list[Event]:
        action, _, name = args.partition(" ")
        if action == "START":
            if not name or urllib.parse.quote(name) != name:
                self._set = None
                return [SignalWarning(f"test set name '{name}' is not URL safe: set ignored")]
            self._set = name
            return [TestSetStarted(name)]
        if action == "STOP":
            name, self._set = self._set or "", None
            return [TestSetStopped(name)]
        return [SignalWarning(f"test set signal '{args}' not understood")]

    # -- results -----------------------------------------------------------------------------

    def _case(
        self, case: str, result: str, measurement: str | None, units: str | None, reference: str | None = None
    ) -> list[Event]:
        definition = self._run.info.definition if self._run else self._last_definition
        if result not in VALID_RESULTS:
            return [SignalError(
                f"test definition {definition}, case {case}: invalid result '{result}' "
                f"(expected one of {', '.join(VALID_RESULTS)})"
            )]
        events: list[Event] = []
        record: dict = {"definition": definition, "case": case, "result": result}
        if measurement is not None and measurement != "":
            try:
                value = float(measurement)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                return [SignalError(
                    f"test definition {definition}, case {case}: measurement '{measurement}' is not a number"
                )]
            record["measurement"] = value
            if units:
                record["units"] = units
        if self._set:
            record["set"] = self._set
        if case in self._starttc:
            record["starttc"] = self._starttc.pop(case)
        if case in self._endtc:
            record["endtc"] = self._endtc.pop(case)
        if reference is not None:
            record["reference"] = reference
        if self._run is not None:
            self._run.reported.add(case)
            expected = self._run.info.expected
            if expected and case not in expected:
                record["result"] = "fail"
                events.append(SignalWarning(
                    f"test definition {definition}: case {case} is not in the expected list, reported as fail"
                ))
        events.insert(0, Result(record))
        return events

    def _pattern(self, line: str) -> list[Event]:
        assert self._run is not None and self._run.pattern is not None
        match = self._run.pattern.search(line)
        if match is None:
            return []
        groups = match.groupdict()
        case, result = groups.get("test_case_id"), groups.get("result")
        if not case or result is None:
            return []
        case = case.strip()
        if not case or any(ch.isspace() for ch in case):
            return []  # as the reference: ids with whitespace are not test cases
        fixup = self._run.info.fixupdict
        result = fixup.get(result, result).lower()
        return self._case(case, result, groups.get("measurement"), groups.get("units"))
