"""``/api/v0.2/jobs/``: list, submit, validate, cancel, resubmit, logs and results of jobs."""

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from lava_common.schemas import JobSchemaError, check_job_text
from lava_scheduler.events import wake_master
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobState
from lava_scheduler.jobs.submission import SubmissionError, resubmit_job, submit_job
from lava_scheduler.jobs.visibility import can_change, visible_jobs
from lava_scheduler.lab.states import TransitionError
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results import export
from lava_server.rest.authentication import APIDefaults
from lava_server.rest.filters import filter_jobs
from lava_server.rest.serializers import JobDetailSerializer, JobSerializer


def _int_param(request, name: str, default: int | None) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: f"expected an integer, got {value!r}"}) from None


def _definition(request) -> str:
    definition = request.data.get("definition") if hasattr(request.data, "get") else None
    if not isinstance(definition, str) or not definition.strip():
        raise ValidationError({"definition": "the job definition (YAML text) is required"})
    return definition


class JobViewSet(APIDefaults, viewsets.ReadOnlyModelViewSet):
    serializer_class = JobSerializer

    def get_queryset(self):
        jobs = visible_jobs(self.request.user, TestJob.objects.select_related("submitter"))
        if self.action == "list":
            jobs = filter_jobs(jobs.order_by("-id"), self.request.query_params)
        return jobs

    def get_serializer_class(self):
        return JobDetailSerializer if self.action == "retrieve" else JobSerializer

    def create(self, request):
        """Submit ``{"definition": "<yaml>"}``: 201 with the new job ids."""
        try:
            jobs = submit_job(_definition(request), request.user)
        except (SubmissionError, ValueError) as exc:
            errors = getattr(exc, "errors", None) or [str(exc)]
            return Response({"message": "; ".join(errors), "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"message": "job(s) successfully submitted", "job_ids": [job.pk for job in jobs]},
            status=status.HTTP_201_CREATED,
        )

    @action(detail=False, methods=["post"], permission_classes=[permissions.AllowAny])
    def validate(self, request):
        """Check ``{"definition", "strict"}`` against the schema (anonymous callers welcome)."""
        strict = str(request.data.get("strict", "false")).lower() in ("1", "true", "yes")
        try:
            checked = check_job_text(_definition(request), strict, settings.EXTRA_CONTEXT_VARIABLES)
        except JobSchemaError as exc:
            errors = [{"path": issue.path, "msg": issue.message} for issue in exc.errors]
            return Response({"message": "; ".join(str(e) for e in exc.errors), "errors": errors})
        # accepted with warnings (unknown keys, ignored as the reference does): shown, not refused
        warnings = [{"path": issue.path, "msg": issue.message} for issue in checked.warnings]
        return Response({"message": "Job valid.", "errors": [], "warnings": warnings})

    def _changeable(self, request) -> TestJob:
        job = self.get_object()
        if not can_change(job, request.user):
            raise PermissionDenied(f"'{request.user.username}' may not change job {job.display_id}")
        return job

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def cancel(self, request, pk=None):
        """Cancel the job: POST only (the reference's GET let a link or an image tag cancel jobs)."""
        job = self._changeable(request)
        with transaction.atomic():
            job = TestJob.objects.select_for_update().get(pk=job.pk)
            if job.state not in (JobState.CANCELING, JobState.FINISHED):
                try:
                    job.cancel(f"canceled by {request.user.username}")
                except TransitionError as exc:
                    raise ValidationError({"state": str(exc)}) from None
                wake_master("cancel")
        return Response({"message": f"Job {job.display_id} canceled", "state": job.get_state_display()})

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def resubmit(self, request, pk=None):
        """Submit the job's definition again."""
        job = self._changeable(request)
        try:
            jobs = resubmit_job(job, request.user)
        except (SubmissionError, ValueError) as exc:
            return Response({"message": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"message": "job(s) successfully submitted", "job_ids": [j.pk for j in jobs]},
                        status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def logs(self, request, pk=None):
        """Log records ``?start=`` to ``?end=`` (excluded) as a YAML list, one record a line."""
        job = self.get_object()
        store = LogStore(job_output_dir(job))
        lines = store.read(_int_param(request, "start", 0), _int_param(request, "end", None))
        response = HttpResponse(("\n".join(lines) + "\n") if lines else "", content_type="application/yaml")
        response["X-Log-Finished"] = str(job.state == JobState.FINISHED).lower()
        return response

    @action(detail=True, methods=["get"])
    def csv(self, request, pk=None):
        """The job's test cases as CSV."""
        return HttpResponse(export.to_csv(export.case_rows(self.get_object())), content_type="text/csv")

    @action(detail=True, methods=["get"])
    def yaml(self, request, pk=None):
        """The job's test cases as YAML."""
        return HttpResponse(export.to_yaml(export.case_rows(self.get_object())), content_type="application/yaml")

    @action(detail=True, methods=["get"])
    def junit(self, request, pk=None):
        """The job's results as JUnit XML (``?classname_prefix=``)."""
        prefix = request.query_params.get("classname_prefix", "")
        return HttpResponse(export.to_junit(self.get_object(), prefix), content_type="application/xml")

    @action(detail=True, methods=["get"])
    def metadata(self, request, pk=None):
        """The job's metadata."""
        return Response({"metadata": self.get_object().metadata})

    @action(detail=True, methods=["get"])
    def suites(self, request, pk=None):
        """The job's test suites."""
        return Response(export.suite_rows(self.get_object()))

    @action(detail=True, methods=["get"])
    def tests(self, request, pk=None):
        """The job's test cases (``?suite=`` to pick one suite), paginated."""
        job = self.get_object()
        suite = request.query_params.get("suite")
        if suite is not None and not job.suites.filter(name=suite).exists():
            raise NotFound(f"job {job.display_id} has no suite '{suite}'")
        limit = min(_int_param(request, "limit", 50) or 50, 1000)
        offset = max(_int_param(request, "offset", 0) or 0, 0)
        return Response({"results": export.case_rows(job, suite, None, limit, offset), "offset": offset,
                         "limit": limit})
