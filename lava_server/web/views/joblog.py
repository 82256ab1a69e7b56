"""A job's log for the browser: JSON ranges for the live view, and the raw file."""

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_server.web.access import visible_job_or_404
from lava_server.web.log_records import to_records

TAIL_LINES = 1000
MAX_LINES = 5000
# what a range needs of the job: the page polls it, the definitions (the big columns) stay unread
LOG_FIELDS = ("sub_id", "submit_time", "state", "health", "log_lines")


def _bound(text: str | None, default: int) -> int:
    try:
        return max(0, int(text)) if text not in (None, "") else default
    except ValueError:
        return default


@require_GET
def log_lines(request: HttpRequest, job_id: str) -> JsonResponse:
    """Lines ``start`` to ``end`` (0-based, end excluded) of the log; the tail without ``start``.

    Records are ``[line number (1-based), dt, lvl, msg]``. ``finished`` tells
    the page that no line will be added any more.
    """
    job = visible_job_or_404(request.user, job_id, TestJob.objects.only(*LOG_FIELDS))
    finished = job.state == JobState.FINISHED  # read before counting: a Finished job's log is complete
    store = LogStore(job_output_dir(job))
    total = min(store.line_count(), job.log_lines) if job.log_lines else store.line_count()
    start = _bound(request.GET.get("start"), max(0, total - TAIL_LINES))
    start = min(start, total)
    end = min(_bound(request.GET.get("end"), start + MAX_LINES), start + MAX_LINES, total)
    lines = store.read(start, end) if end > start else []
    return JsonResponse(
        {
            "job": job.display_id,
            "start": start,
            "end": start + len(lines),
            "total": total,
            "finished": finished,
            "state": job.get_state_display(),
            "health": job.get_health_display(),
            "records": to_records(start + 1, lines),
        }
    )


@require_GET
def log_raw(request: HttpRequest, job_id: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    store = LogStore(job_output_dir(job))
    raw = store.open_raw()
    if raw is None:
        return HttpResponse("", content_type="text/plain; charset=utf-8")
    return FileResponse(
        raw,  # FileResponse closes it
        content_type="text/plain; charset=utf-8",
        filename=f"job_{job.display_id}.yaml",
        as_attachment=request.GET.get("download") == "1",
    )
