"""The jobs list and the job page, with cancel and resubmit."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from lava_scheduler.events import wake_master
from lava_scheduler.jobs.masking import readable_definition
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.jobs.submission import SubmissionError, resubmit_job
from lava_scheduler.jobs.visibility import can_change, visible_jobs
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.permissions.rules import visible_device_types
from lava_scheduler.results.models import TestCase, TestResult
from lava_server.web.access import find_visible_job, visible_job_or_404
from lava_server.web.job_filters import KINDS, apply_filters, read_filters
from lava_server.web.paging import paginate_newest_first
from lava_server.web.queue_reason import explain_wait

RESULTS_ON_JOB_PAGE = 200


@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    filters = read_filters(request.GET)
    # the submitters in a query of their own: joined, PostgreSQL may join every matching job before
    # it keeps the newest 25 (a text search matching thousands)
    jobs = apply_filters(visible_jobs(request.user), filters).prefetch_related("submitter")
    # counting visible jobs costs ~10 µs a row: beyond 1,000 the list says "1,000+"
    page = paginate_newest_first(jobs, request.GET, sorts_every_match=filters.searches_text)
    return render(
        request,
        "web/job_list.html",
        {
            "page": page,
            "filters": filters,
            "states": JobState.labels,
            "healths": JobHealth.labels,
            "kinds": KINDS,
            "device_types": visible_device_types(request.user).values_list("name", flat=True),
        },
    )


def results_summary(job: TestJob) -> list[dict]:
    """Per suite: its id, name and how many cases passed, failed, skipped, unknown."""
    suites: dict[int, dict] = {}
    rows = (
        TestCase.objects.filter(suite__job=job)
        .values("suite_id", "suite__name", "result")
        .annotate(count=Count("id"))
        .order_by("suite_id")
    )
    for row in rows:
        suite = suites.setdefault(
            row["suite_id"], {"name": row["suite__name"], **{label: 0 for label in TestResult.labels}, "total": 0}
        )
        suite[TestResult(row["result"]).label] += row["count"]
        suite["total"] += row["count"]
    return list(suites.values())


@require_GET
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    queryset = TestJob.objects.select_related("submitter", "actual_device", "actual_device__worker_host")
    job = find_visible_job(request.user, job_id, queryset)
    if job is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404(f"no job {job_id} that you may see")
    now = timezone.now()
    cases = list(TestCase.objects.filter(suite__job=job).select_related("suite")[: RESULTS_ON_JOB_PAGE + 1])
    siblings = []
    if job.target_group:
        siblings = visible_jobs(request.user, TestJob.objects.filter(target_group=job.target_group)).order_by("id")
    context = {
        "job": job,
        "can_change": can_change(job, request.user),
        "finished": job.state == JobState.FINISHED,
        "cancelable": job.state not in (JobState.FINISHED, JobState.CANCELING),
        "waited": ((job.start_time or now) - job.submit_time) if job.submit_time else None,
        "ran": ((job.end_time or now) - job.start_time) if job.start_time else None,
        "queue": explain_wait(job),
        "suites": results_summary(job),
        "cases": cases[:RESULTS_ON_JOB_PAGE],
        "more_cases": len(cases) > RESULTS_ON_JOB_PAGE,
        "log_lines": LogStore(job_output_dir(job)).line_count(),
        "tags": list(job.tags.values_list("name", flat=True)),
        "groups": list(job.viewing_groups.values_list("name", flat=True)),
        "siblings": siblings,
        "notifications": job.notifications.prefetch_related("attempt_log"),
        "definition": readable_definition(job.original_definition or job.definition, job, request.user),
    }
    return render(request, "web/job.html", context)


@require_GET
def job_definition(request: HttpRequest, job_id: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    text = readable_definition(job.original_definition or job.definition, job, request.user)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


def _changeable_job(request: HttpRequest, job_id: str) -> TestJob:
    job = visible_job_or_404(request.user, job_id)
    if not can_change(job, request.user):
        raise Http404(f"job {job_id}: only its submitter or an admin may change it")
    return job


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _changeable_job(request, job_id)
    with transaction.atomic():
        job = TestJob.objects.select_for_update().get(pk=job.pk)
        if job.state in (JobState.FINISHED, JobState.CANCELING):
            messages.info(request, f"Job {job.display_id} is already {job.get_state_display()}.")
        else:
            job.cancel(f"canceled by {request.user.username} (web)")
            wake_master("cancel")
            messages.success(request, f"Job {job.display_id} canceled.")
    return redirect("web-job", job_id=job.display_id)


@login_required
@require_POST
def job_resubmit(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _changeable_job(request, job_id)
    try:
        new = resubmit_job(job, request.user)
    except SubmissionError as exc:
        messages.error(request, "Resubmission refused: " + "; ".join(exc.errors))
        return redirect("web-job", job_id=job.display_id)
    messages.success(request, f"Job {job.display_id} resubmitted as {', '.join(j.display_id for j in new)}.")
    return redirect("web-job", job_id=new[0].display_id)
