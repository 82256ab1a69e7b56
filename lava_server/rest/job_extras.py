"""``/api/v0.2/jobs/`` beyond the job viewset: TAP13, batch cancel, test-definition validation, per-suite exports."""

from django.http import HttpResponse
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from lava_common.schemas import JobSchemaError, validate_testdef
from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_scheduler.jobs.cancellation import CancelRefused, cancel_for
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.lab.states import TransitionError
from lava_scheduler.results import export
from lava_scheduler.results.tap13 import to_tap13
from lava_server.rest.authentication import APIDefaults

MAX_BATCH = 1000


def visible_job(request, pk: int) -> TestJob:
    job = visible_jobs(request.user, TestJob.objects.filter(pk=pk)).first()
    if job is None:
        raise NotFound(f"job {pk} was not found")
    return job


class JobTap13(APIDefaults, APIView):
    def get(self, request, pk: int):
        """The job's results as TAP version 13."""
        return HttpResponse(to_tap13(visible_job(request, pk)), content_type="text/plain; charset=utf-8")


class BatchCancelSerializer(serializers.Serializer):
    job_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False,
                                    max_length=MAX_BATCH)


class BatchCancel(APIDefaults, APIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BatchCancelSerializer

    def post(self, request):
        """POST ``{"job_ids": [...]}``: cancel each job the caller may change; says which were not, and why."""
        body = BatchCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = list(dict.fromkeys(body.validated_data["job_ids"]))
        jobs = {job.pk: job for job in visible_jobs(request.user, TestJob.objects.filter(pk__in=wanted))}
        canceled, refused = [], {}
        for pk in wanted:
            if pk not in jobs:
                refused[str(pk)] = "not found"
                continue
            try:
                cancel_for(jobs[pk], request.user)
                canceled.append(pk)
            except (CancelRefused, TransitionError) as exc:
                refused[str(pk)] = str(exc)
        message = f"{len(canceled)} job(s) canceled" + (f", {len(refused)} not" if refused else "")
        return Response({"message": message, "canceled": canceled, "errors": refused})


class TestdefSerializer(serializers.Serializer):
    test_def = serializers.CharField(trim_whitespace=False)


class ValidateTestdef(APIDefaults, APIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = TestdefSerializer

    def post(self, request):
        """POST ``{"test_def": "<yaml>"}``: ``errors`` lists each problem with its path (empty when valid)."""
        body = TestdefSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            validate_testdef(load_yaml(body.validated_data["test_def"]))
        except YAMLLoadError as exc:
            return Response({"message": f"not valid YAML: {exc}", "errors": [{"path": "", "msg": str(exc)}]})
        except JobSchemaError as exc:
            errors = [{"path": issue.path, "msg": issue.message} for issue in exc.errors]
            return Response({"message": "; ".join(str(e) for e in exc.errors), "errors": errors})
        return Response({"message": "Test definition valid.", "errors": []})


def _suite_name(job: TestJob, suite: str) -> str:
    """A suite of the job by id (as the reference's URLs) or by name."""
    suites = job.suites.all()
    found = suites.filter(pk=int(suite)).first() if suite.isdigit() else None
    found = found or suites.filter(name=suite).first()
    if found is None:
        raise NotFound(f"job {job.display_id} has no suite '{suite}'")
    return found.name


class SuiteExport(APIDefaults, APIView):
    def get(self, request, pk: str, suite: str, fmt: str):
        """One suite's test cases: ``csv/``, ``yaml/``, or ``tests/`` (JSON, ``?limit=&offset=``)."""
        job = visible_job(request, int(pk))
        name = _suite_name(job, suite)
        if fmt == "csv":
            return HttpResponse(export.to_csv(export.case_rows(job, name)), content_type="text/csv")
        if fmt == "yaml":
            return HttpResponse(export.to_yaml(export.case_rows(job, name)), content_type="application/yaml")
        try:
            limit = min(int(request.query_params.get("limit", 50)), 1000)
            offset = max(int(request.query_params.get("offset", 0)), 0)
        except ValueError:
            raise ValidationError({"limit/offset": "expected integers"}) from None
        return Response({"results": export.case_rows(job, name, None, limit, offset), "offset": offset,
                         "limit": limit, "count": export.case_count(job, name)}, status=status.HTTP_200_OK)
