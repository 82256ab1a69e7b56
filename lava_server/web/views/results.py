"""Results of a job, by suite and by case, and their exports (shared with the APIs)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lava_common.yaml_loader import dump_yaml
from lava_scheduler.results import export
from lava_scheduler.results.models import TestSuite
from lava_server.web.access import visible_job_or_404
from lava_server.web.paging import paginate
from lava_server.web.views.jobs import results_summary

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "yaml": "application/yaml; charset=utf-8",
    "junit": "application/xml; charset=utf-8",
}


@require_GET
def job_results(request: HttpRequest, job_id: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    return render(request, "web/results.html", {"job": job, "suites": results_summary(job)})


def _suite(job, name: str) -> TestSuite:
    suite = TestSuite.objects.filter(job=job, name=name).first()
    if suite is None:
        raise Http404(f"job {job.display_id} has no suite '{name}'")
    return suite


@require_GET
def suite_results(request: HttpRequest, job_id: str, suite: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    test_suite = _suite(job, suite)
    cases = test_suite.test_cases.select_related("test_set").order_by("id")
    page = paginate(cases, request.GET.get("page"), per_page=200)
    return render(request, "web/suite.html", {"job": job, "suite": test_suite, "page": page})


@require_GET
def case_results(request: HttpRequest, job_id: str, suite: str, case: str) -> HttpResponse:
    """Every case of that name in the suite (a test may report the same name more than once)."""
    job = visible_job_or_404(request.user, job_id)
    test_suite = _suite(job, suite)
    cases = list(test_suite.test_cases.filter(name=case).select_related("test_set").order_by("id")[:100])
    if not cases:
        raise Http404(f"suite '{suite}' of job {job.display_id} has no case '{case}'")
    details = [(item, dump_yaml(item.metadata)) for item in cases]
    return render(request, "web/case.html", {"job": job, "suite": test_suite, "name": case, "cases": details})


def _download(text: str, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type=CONTENT_TYPES[fmt])
    extension = "xml" if fmt == "junit" else fmt
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@require_GET
def job_export(request: HttpRequest, job_id: str, fmt: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    name = f"job_{job.display_id}_results"
    if fmt == "junit":
        return _download(export.to_junit(job), fmt, name)
    rows = export.case_rows(job)
    return _download(export.to_csv(rows) if fmt == "csv" else export.to_yaml(rows), fmt, name)


@require_GET
def suite_export(request: HttpRequest, job_id: str, suite: str, fmt: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    test_suite = _suite(job, suite)
    rows = export.case_rows(job, suite=test_suite.name)
    return _download(export.to_csv(rows) if fmt == "csv" else export.to_yaml(rows), fmt,
                     f"job_{job.display_id}_{test_suite.name}")
