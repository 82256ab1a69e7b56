"""Results of a job, by suite, and their CSV/YAML exports."""

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lava_scheduler.results.models import TestCase, TestSuite
from lava_server.web import results_export
from lava_server.web.access import visible_job_or_404
from lava_server.web.paging import paginate
from lava_server.web.views.jobs import results_summary


@require_GET
def job_results(request: HttpRequest, job_id: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    suites = results_summary(job)
    return render(request, "web/results.html", {"job": job, "suites": suites})


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


def _export(cases, job, fmt: str, name: str) -> HttpResponse:
    rows = results_export.rows(cases.select_related("suite").order_by("id").iterator(chunk_size=2000), job.display_id)
    if fmt == "csv":
        response = StreamingHttpResponse(results_export.csv_chunks(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(results_export.yaml_text(rows), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_GET
def job_export(request: HttpRequest, job_id: str, fmt: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    return _export(TestCase.objects.filter(suite__job=job), job, fmt, f"job_{job.display_id}_results")


@require_GET
def suite_export(request: HttpRequest, job_id: str, suite: str, fmt: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    test_suite = _suite(job, suite)
    return _export(test_suite.test_cases.all(), job, fmt, f"job_{job.display_id}_{test_suite.name}")
