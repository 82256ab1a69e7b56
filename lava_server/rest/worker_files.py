"""``/api/v0.2/workers/<hostname>/config/``, ``env/`` and ``env-dut/``: GET the file, POST ``{"config": text}``.

Both directions need admin or change rights on workers: these files may hold
lab secrets. An empty text deletes the file (the defaults apply again).
"""

from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from lava_scheduler.lab import files
from lava_scheduler.lab.models import Worker
from lava_scheduler.lab.yaml_settings import yaml_mapping_problem
from lava_server.rest.authentication import APIDefaults

FILES = {"config": "dispatcher.yaml", "env": "env.yaml", "env-dut": "env-dut.yaml"}


class ChangesWorkers(permissions.BasePermission):
    message = "needs admin or change rights on workers (lab.change_worker)"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm("lab.change_worker")))


class WorkerFileSerializer(serializers.Serializer):
    config = serializers.CharField(allow_blank=True, trim_whitespace=False)


class WorkerFile(APIDefaults, APIView):
    permission_classes = [ChangesWorkers]
    serializer_class = WorkerFileSerializer

    def _path(self, hostname: str, kind: str) -> Path:
        worker = Worker.objects.filter(pk=hostname).first()
        if worker is None:
            raise NotFound(f"worker '{hostname}' was not found")
        return Path(settings.DISPATCHER_D) / worker.hostname / FILES[kind]

    def get(self, request, hostname: str, kind: str):
        """The worker's file as YAML text; 404 when the defaults apply."""
        path = self._path(hostname, kind)
        if not path.exists():
            raise NotFound(f"worker '{hostname}' has no {FILES[kind]} (the defaults apply)")
        return HttpResponse(path.read_text(encoding="utf-8"), content_type="application/yaml")

    def post(self, request, hostname: str, kind: str):
        """Replace the file with ``config`` (a YAML mapping); an empty text deletes it."""
        path = self._path(hostname, kind)
        body = WorkerFileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        text = body.validated_data["config"]
        if not text.strip():
            path.unlink(missing_ok=True)
            return Response({"message": f"{FILES[kind]} deleted"})
        problem = yaml_mapping_problem(text)
        if problem:
            raise ValidationError({"config": problem})
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomically(path, text)
        return Response({"message": f"{FILES[kind]} stored"})
