"""Results records of a job's log become TestSuite / TestSet / TestCase rows."""

from decimal import Decimal, InvalidOperation
from typing import Any

from lava_scheduler.publisher.emit import emit_test_cases
from lava_scheduler.results.models import TestCase, TestResult, TestSet, TestSuite

RESULTS = {label: value for value, label in TestResult.choices}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class ResultsWriter:
    """Collects the results of one batch of log lines, then writes them in bulk."""

    def __init__(self, job):
        self.job = job
        self.suites: dict[str, TestSuite] = {}
        self.sets: dict[tuple[int, str], TestSet] = {}
        self.cases: list[TestCase] = []
        self.final: dict[str, Any] | None = None

    def _suite(self, name: str) -> TestSuite:
        suite = self.suites.get(name)
        if suite is None:
            suite, _ = TestSuite.objects.get_or_create(job=self.job, name=name[:200])
            self.suites[name] = suite
        return suite

    def _set(self, suite: TestSuite, name: str) -> TestSet:
        key = (suite.pk, name)
        test_set = self.sets.get(key)
        if test_set is None:
            test_set, _ = TestSet.objects.get_or_create(suite=suite, name=name[:200])
            self.sets[key] = test_set
        return test_set

    def add(self, record: dict[str, Any], line_index: int) -> None:
        """One ``results`` record found at ``line_index`` of the log."""
        if not isinstance(record, dict) or "definition" not in record or "case" not in record:
            return
        definition, case = str(record["definition"]), str(record["case"])
        result = RESULTS.get(str(record.get("result", "unknown")), TestResult.UNKNOWN)
        suite = self._suite(definition)
        measurement, units = _decimal(record.get("measurement")), str(record.get("units", ""))[:100]
        if definition == "lava" and measurement is None and "duration" in record:
            measurement, units = _decimal(record["duration"]), "seconds"
        self.cases.append(
            TestCase(
                suite=suite,
                test_set=self._set(suite, str(record["set"])) if record.get("set") else None,
                name=case,
                result=result,
                measurement=measurement,
                units=units,
                metadata=record,
                start_log_line=record.get("starttc") if isinstance(record.get("starttc"), int) else line_index,
                end_log_line=record.get("endtc") if isinstance(record.get("endtc"), int) else line_index,
            )
        )
        if definition == "lava" and case == "job":
            self.final = record

    def save(self) -> None:
        if self.cases:
            TestCase.objects.bulk_create(self.cases)
            emit_test_cases(self.job, self.cases)
            self.cases = []
