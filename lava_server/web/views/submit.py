"""The submit page: validate or submit a definition, errors shown beside it."""

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from lava_common.constants import JOB_DEFINITION_MAX_BYTES
from lava_scheduler.jobs.masking import readable_definition
from lava_scheduler.jobs.submission import SubmissionError, check_definition, submit_job
from lava_scheduler.jobs.visibility import visible_jobs
from lava_server.web.definition_lines import line_of_path

LINE_NUMBER = re.compile(r"\bline (\d+)")


def _errors(exc: SubmissionError, definition: str) -> list[dict]:
    """Each error with the definition line it is about, when known, and that line's text."""
    lines = definition.splitlines()
    found = []
    for text in exc.errors:
        match = LINE_NUMBER.search(text)
        if match:
            line = int(match.group(1))
        else:
            path = text.split(":", 1)[0] if ":" in text else ""
            line = line_of_path(definition, path) if path and " " not in path else None
        source = lines[line - 1] if line and line <= len(lines) else None
        found.append({"text": text, "line": line, "source": source})
    return found


@login_required
def submit_page(request: HttpRequest) -> HttpResponse:
    context: dict = {"definition": "", "errors": [], "valid": False}
    if request.method == "GET":
        source = request.GET.get("from", "")
        if source.isdigit():
            job = visible_jobs(request.user).filter(pk=int(source)).first()
            if job is not None:
                text = job.multinode_definition or job.original_definition or job.definition
                context["definition"] = readable_definition(text, job, request.user)
        return render(request, "web/submit.html", context)
    if request.method != "POST":
        return HttpResponse(status=405)
    text = request.POST.get("definition", "")
    context["definition"] = text
    if len(text.encode("utf-8")) > JOB_DEFINITION_MAX_BYTES:
        context["errors"] = [{"text": f"the definition is bigger than {JOB_DEFINITION_MAX_BYTES} bytes", "line": None}]
        return render(request, "web/submit.html", context, status=400)
    try:
        if request.POST.get("action") == "validate":
            context["warnings"] = [str(issue) for issue in check_definition(text).warnings]
            context["valid"] = True
            return render(request, "web/submit.html", context)
        jobs = submit_job(text, request.user)
    except SubmissionError as exc:
        context["errors"] = _errors(exc, text)
        return render(request, "web/submit.html", context, status=400)
    return redirect("web-job", job_id=jobs[0].display_id)
