"""A MultiNode group's page: its members (role, device, state) and the messages they exchanged.

Each member's lava-run records every MultiNode call (lava-send, lava-wait, lava-wait-all,
lava-sync, from the test shell or an action's ``protocols`` block) as a ``multinode-*`` case of
its ``lava`` suite, with the data sent or received in the case's record; the page merges those
cases of every member in the order they were logged.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.results.models import TestCase
from lava_server.web.access import visible_job_or_404

MESSAGES_ON_PAGE = 500


def member_role(job: TestJob) -> str:
    try:
        protocol = ((load_yaml(job.definition) or {}).get("protocols") or {}).get("lava-multinode") or {}
    except YAMLLoadError:
        return ""
    return str(protocol.get("role") or "")


def _words(data: object) -> str:
    """``{"21": {"ip": "10.0.0.1"}}`` or ``{"ip": "10.0.0.1"}`` as ``21:ip=10.0.0.1`` / ``ip=10.0.0.1``."""
    if not isinstance(data, dict):
        return ""
    words = []
    for key, value in data.items():
        if isinstance(value, dict):
            words += [f"{key}:{k}={v}" for k, v in value.items()]
        else:
            words.append(f"{key}={value}")
    return " ".join(words)


def group_messages(jobs: list[TestJob]) -> list[dict]:
    by_pk = {job.pk: job for job in jobs}
    cases = (
        TestCase.objects.filter(suite__job__in=jobs, suite__name="lava", name__startswith="multinode-")
        .select_related("suite")
        .order_by("logged", "id")[:MESSAGES_ON_PAGE]
    )
    rows = []
    for case in cases:
        extra = (case.metadata or {}).get("extra") or {}
        call = case.name.removeprefix("multinode-").removesuffix(f"-{extra.get('message_id', '')}")
        rows.append({
            "when": case.logged, "job": by_pk[case.suite.job_id], "role": extra.get("role", ""),
            "call": f"lava-{call}", "message_id": extra.get("message_id", ""),
            "waitrole": extra.get("waitrole", ""), "sent": _words(extra.get("data")),
            "received": _words(extra.get("received")), "origin": extra.get("origin", ""),
            "result": case.get_result_display(), "error": extra.get("error", ""),
        })
    return rows


@require_GET
def group_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = visible_job_or_404(request.user, job_id)
    if not job.target_group:
        raise Http404(f"job {job.display_id} is not part of a MultiNode group")
    jobs = list(
        visible_jobs(request.user, TestJob.objects.filter(target_group=job.target_group))
        .select_related("actual_device", "requested_device_type").order_by("id")
    )
    members = [{"job": member, "role": member_role(member)} for member in jobs]
    return render(request, "web/multinode_group.html", {
        "job": job, "members": members, "calls": group_messages(jobs), "limit": MESSAGES_ON_PAGE,
    })
