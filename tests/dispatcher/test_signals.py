"""SignalParser on console transcripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from lava_common.yaml_loader import load_yaml
from lava_dispatcher.test_shell.signals import (
    CaseMarker,
    Feedback,
    InstallFailed,
    Raised,
    Result,
    RunEnded,
    RunInfo,
    RunnerExit,
    RunStarted,
    SignalError,
    SignalParser,
    SignalWarning,
    TestEvent,
    TestSetStarted,
    TestSetStopped,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1.5
        return self.now


def results(events: list) -> list[dict]:
    return [e.record for e in events if isinstance(e, Result)]


TRANSCRIPT = """\
root@lava:~# /lava-42/bin/lava-test-runner /lava-42/0\r\r
lava-test-runner: running 0_smoke\r\r
<LAVA_SIGNAL_STARTRUN 0_smoke 42_1.3.2.4.1>\r\r
<LAVA_SIGNAL_STARTTC uname>\r\r
Linux lava 6.1.0-56-arm64 #1 SMP aarch64 GNU/Linux\r\r
<LAVA_SIGNAL_ENDTC uname>\r\r
<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=uname RESULT=pass>\r\r
<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=broken RESULT=fail>\r\r
<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=later RESULT=skip>\r\r
<LAVA_SIGNAL_TESTSET START network>\r\r
<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=speed RESULT=pass UNITS=Mb/s MEASUREMENT=94.5>\r\r
<LAVA_SIGNAL_TESTSET STOP>\r\r
<LAVA_SIGNAL_TESTREFERENCE ltp pass https://example.org/ltp.log>\r\r
<LAVA_SIGNAL_TESTEVENT firmware updated>\r\r
<LAVA_SIGNAL_ENDRUN 0_smoke 42_1.3.2.4.1>\r\r
<LAVA_TEST_RUNNER EXIT>\r\r
root@lava:~# \x1b[6n"""


def test_transcript_gives_results_exactly_as_printed() -> None:
    info = RunInfo("0_smoke", uuid="42_1.3.2.4.1", repository="inline", path="inline/0_smoke.yaml")
    parser = SignalParser([info], namespace="common", clock=FakeClock())
    events = parser.feed(TRANSCRIPT) + parser.flush()
    assert results(events) == [
        {"definition": "0_smoke", "case": "uname", "result": "pass", "starttc": 3, "endtc": 5},
        {"definition": "0_smoke", "case": "broken", "result": "fail"},
        {"definition": "0_smoke", "case": "later", "result": "skip"},
        {"definition": "0_smoke", "case": "speed", "result": "pass", "measurement": 94.5, "units": "Mb/s",
         "set": "network"},
        {"definition": "0_smoke", "case": "ltp", "result": "pass", "reference": "https://example.org/ltp.log"},
        {"definition": "lava", "case": "0_smoke", "uuid": "42_1.3.2.4.1", "repository": "inline",
         "path": "inline/0_smoke.yaml", "revision": "", "namespace": "common", "duration": "1.50",
         "result": "pass"},
    ]
    kinds = [type(e) for e in events]
    assert kinds[0] is RunStarted
    assert CaseMarker("uname", "start", 3) in events and CaseMarker("uname", "end", 5) in events
    assert TestSetStarted("network") in events and TestSetStopped("network") in events
    assert TestEvent("firmware updated") in events
    assert kinds[-2:] == [RunEnded, RunnerExit]


def test_chunks_split_anywhere_give_the_same_events() -> None:
    whole = SignalParser(clock=lambda: 0.0)
    expected = whole.feed(TRANSCRIPT) + whole.flush()
    split = SignalParser(clock=lambda: 0.0)
    got = []
    for i in range(0, len(TRANSCRIPT), 7):
        got += split.feed(TRANSCRIPT[i:i + 7])
    got += split.flush()
    assert got == expected


def test_caller_line_indices_are_used_for_markers() -> None:
    parser = SignalParser()
    parser.feed_line("<LAVA_SIGNAL_STARTTC boot>", line_index=812)
    parser.feed_line("<LAVA_SIGNAL_ENDTC boot>", line_index=815)
    events = parser.feed_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=boot RESULT=pass>", line_index=816)
    assert results(events) == [{"definition": "lava", "case": "boot", "result": "pass", "starttc": 812, "endtc": 815}]


def test_signals_after_kernel_timestamps_and_in_the_middle_of_lines() -> None:
    parser = SignalParser()
    events = parser.feed_line("[   12.345678] <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=kmsg RESULT=pass>")
    events += parser.feed_line("noise<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=pass>more<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=b RESULT=fail>")
    assert [(r["case"], r["result"]) for r in results(events)] == [("kmsg", "pass"), ("a", "pass"), ("b", "fail")]


@pytest.mark.parametrize("line,fragment", [
    ("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=passed>", "invalid result 'passed'"),
    ("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass MEASUREMENT=fast>", "measurement 'fast' is not a number"),
    ("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass MEASUREMENT=nan>", "is not a number"),
    ("<LAVA_SIGNAL_TESTCASE RESULT=pass>", "without TEST_CASE_ID"),
])
def test_bad_results_become_errors(line: str, fragment: str) -> None:
    events = SignalParser().feed_line(line)
    assert len(events) == 1 and isinstance(events[0], SignalError)
    assert fragment in events[0].message


def test_raise_feedback_install_fail() -> None:
    parser = SignalParser()
    events = parser.feed("<LAVA_SIGNAL_TESTRAISE disk on fire>\n<LAVA_SIGNAL_TESTFEEDBACK ns2>\n"
                         "<LAVA_TEST_RUNNER INSTALL_FAIL>\n")
    assert events == [Raised("disk on fire"), Feedback("ns2"), InstallFailed()]


def test_unsafe_test_set_name_is_ignored() -> None:
    parser = SignalParser()
    events = parser.feed_line("<LAVA_SIGNAL_TESTSET START a/b?c>")
    assert isinstance(events[0], SignalWarning)
    events = parser.feed_line("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass>")
    assert "set" not in results(events)[0]


def test_expected_cases_missing_and_unexpected_become_failures() -> None:
    info = RunInfo("1_exp", uuid="u", expected=("one", "two"))
    parser = SignalParser([info], clock=lambda: 0.0)
    events = parser.feed(
        "<LAVA_SIGNAL_STARTRUN 1_exp u>\n"
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=one RESULT=pass>\n"
        "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=three RESULT=pass>\n"
        "<LAVA_SIGNAL_ENDRUN 1_exp u>\n"
    )
    got = [(r["definition"], r["case"], r["result"]) for r in results(events)]
    assert got == [("1_exp", "one", "pass"), ("1_exp", "three", "fail"), ("1_exp", "two", "fail"),
                   ("lava", "1_exp", "pass")]
    assert any(isinstance(e, SignalWarning) and "three" in e.message for e in events)


def test_expected_cases_checked_when_endrun_never_comes() -> None:
    parser = SignalParser([RunInfo("0_x", expected=("a",))])
    events = parser.feed("<LAVA_SIGNAL_STARTRUN 0_x u>\n<LAVA_TEST_RUNNER EXIT>\n")
    assert results(events) == [{"definition": "0_x", "case": "a", "result": "fail"}]
    assert not any(isinstance(e, RunEnded) for e in events)


def test_parse_pattern_only_between_startrun_and_endrun() -> None:
    info = RunInfo("0_p", pattern=r"^(?P<test_case_id>[^:]+):\s+(?P<result>PASS|FAIL)(\s+(?P<measurement>[\d.]+)\s+(?P<units>\w+))?",
                   fixupdict={"PASS": "pass", "FAIL": "fail"})
    parser = SignalParser([info], clock=lambda: 0.0)
    events = parser.feed(
        "before: PASS\n<LAVA_SIGNAL_STARTRUN 0_p u>\nalpha: PASS\nbeta: FAIL 3.5 ms\n"
        "two words: PASS\n<LAVA_SIGNAL_ENDRUN 0_p u>\nafter: PASS\n"
    )
    assert results(events)[:2] == [
        {"definition": "0_p", "case": "alpha", "result": "pass"},
        {"definition": "0_p", "case": "beta", "result": "fail", "measurement": 3.5, "units": "ms"},
    ]
    # "two words" has whitespace in its id; "before"/"after" are outside the run
    assert len(results(events)) == 3


def test_corpus_parse_sample_with_its_testdef() -> None:
    sample = CORPUS / "testdefs" / "result-data.txt"
    testdef_file = CORPUS / "testdefs" / "install.yaml"
    if not sample.exists() or not testdef_file.exists():
        pytest.skip("shared corpus not available")
    testdef = load_yaml(testdef_file.read_text())
    info = RunInfo("0_parameters-test", pattern=testdef["parse"]["pattern"], fixupdict=testdef["parse"]["fixupdict"])
    parser = SignalParser([info], clock=lambda: 0.0)
    events = parser.feed("<LAVA_SIGNAL_STARTRUN 0_parameters-test u>\n")
    events += parser.feed(sample.read_text())
    events += parser.feed("<LAVA_SIGNAL_ENDRUN 0_parameters-test u>\n")
    got = [(r["case"], r["result"]) for r in results(events) if r["definition"] != "lava"]
    # fixupdict maps pass -> PASS (taken as pass) and fail -> UNKNOWN; "skip" and the quoted line do not match
    assert got == [("test1a", "pass"), ("test2a", "unknown")]
    assert not any(isinstance(e, SignalError) for e in events)


def test_invalid_pattern_is_refused_naming_the_definition() -> None:
    with pytest.raises(ValueError, match="0_bad"):
        SignalParser([RunInfo("0_bad", pattern="(unclosed")])


def test_runs_given_as_plain_dicts() -> None:
    parser = SignalParser([{"definition": "0_d", "expected": ["x"], "unknown_key": 1}], clock=lambda: 0.0)
    events = parser.feed("<LAVA_SIGNAL_STARTRUN 0_d u>\n<LAVA_SIGNAL_ENDRUN 0_d u>\n")
    assert results(events)[0] == {"definition": "0_d", "case": "x", "result": "fail"}
