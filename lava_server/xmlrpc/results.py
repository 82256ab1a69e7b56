"""``results.*``: a job's test results as YAML or CSV text."""

from typing import Any

from lava_scheduler.results import export
from lava_server.xmlrpc.lookup import visible_job
from lava_server.xmlrpc.registry import Context, as_int, fault, method


def _page(limit: Any, offset: Any) -> tuple[int | None, int | None]:
    return (None if limit is None else as_int(limit, "limit"), None if offset is None else as_int(offset, "offset"))


def _suite_exists(job, suite: str) -> None:
    if not job.suites.filter(name=suite).exists():
        raise fault(404, f"Job '{job.display_id}' has no test suite '{suite}'")


@method("results.get_testjob_results_yaml")
def testjob_yaml(ctx: Context, job_id: Any) -> str:
    """Every test case of the job, as a YAML list."""
    return export.to_yaml(export.case_rows(visible_job(ctx, job_id)))


@method("results.get_testjob_results_csv")
def testjob_csv(ctx: Context, job_id: Any) -> str:
    """Every test case of the job, as CSV."""
    return export.to_csv(export.case_rows(visible_job(ctx, job_id)))


@method("results.get_testjob_suites_list_yaml")
def suites_yaml(ctx: Context, job_id: Any) -> str:
    """The job's test suites (``name, job, id``), as YAML."""
    return export.to_yaml(export.suite_rows(visible_job(ctx, job_id)))


@method("results.get_testjob_suites_list_csv")
def suites_csv(ctx: Context, job_id: Any) -> str:
    """The job's test suites, as CSV."""
    return export.to_csv(export.suite_rows(visible_job(ctx, job_id)), export.SUITE_FIELDS)


@method("results.get_testjob_metadata")
def metadata(ctx: Context, job_id: Any) -> dict[str, Any]:
    """The job's metadata (from its definition's ``metadata:``)."""
    return visible_job(ctx, job_id).metadata


@method("results.get_testsuite_results_yaml")
def testsuite_yaml(ctx: Context, job_id: Any, suite_name: str, limit: Any = None, offset: Any = None) -> str:
    """The test cases of one suite, as YAML."""
    job = visible_job(ctx, job_id)
    _suite_exists(job, str(suite_name))
    return export.to_yaml(export.case_rows(job, str(suite_name), None, *_page(limit, offset)))


@method("results.get_testsuite_results_csv")
def testsuite_csv(ctx: Context, job_id: Any, suite_name: str, limit: Any = None, offset: Any = None) -> str:
    """The test cases of one suite, as CSV."""
    job = visible_job(ctx, job_id)
    _suite_exists(job, str(suite_name))
    return export.to_csv(export.case_rows(job, str(suite_name), None, *_page(limit, offset)))


@method("results.get_testsuite_results_count")
def testsuite_count(ctx: Context, job_id: Any, suite_name: str) -> int:
    """How many test cases a suite has."""
    job = visible_job(ctx, job_id)
    _suite_exists(job, str(suite_name))
    return export.case_count(job, str(suite_name))


def _case_rows(ctx: Context, job_id: Any, suite_name: str, case_name: str) -> list[dict[str, Any]]:
    job = visible_job(ctx, job_id)
    rows = export.case_rows(job, str(suite_name), str(case_name))
    if not rows:
        raise fault(404, f"Job '{job.display_id}' has no test case '{suite_name}/{case_name}'")
    return rows


@method("results.get_testcase_results_yaml")
def testcase_yaml(ctx: Context, job_id: Any, suite_name: str, case_name: str) -> str:
    """One test case (every occurrence of that name in the suite), as YAML."""
    return export.to_yaml(_case_rows(ctx, job_id, suite_name, case_name))


@method("results.get_testcase_results_csv")
def testcase_csv(ctx: Context, job_id: Any, suite_name: str, case_name: str) -> str:
    """One test case, as CSV."""
    return export.to_csv(_case_rows(ctx, job_id, suite_name, case_name))
