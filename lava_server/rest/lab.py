"""``/api/v0.2/`` devices, device types, workers, tags and aliases (writes: admins)."""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from lava_scheduler.device_config import DeviceConfigError, device_type_of_dictionary
from lava_scheduler.events import wake_scheduler
from lava_scheduler.jobs.masking import readable_health_check
from lava_scheduler.lab import files
from lava_scheduler.lab.config_access import can_read_device_config
from lava_scheduler.lab.models import Alias, Device, DeviceType, Tag, Worker
from lava_scheduler.lab.states import DeviceHealth, TransitionError, WorkerHealth, parse_choice
from lava_scheduler.permissions.rules import (
    CHANGE,
    device_allows,
    visible_device_types,
    visible_devices,
    visible_workers,
    worker_allows,
)
from lava_server.rest.authentication import APIDefaults, ReadOnlyOrAdmin
from lava_server.rest.serializers import (
    AliasSerializer,
    DeviceSerializer,
    DeviceTypeSerializer,
    TagSerializer,
    WorkerSerializer,
)


def _require_change(request, model) -> None:
    user = request.user
    if not (user.is_superuser or user.has_perm(f"lab.change_{model._meta.model_name}")):
        raise PermissionDenied(f"'{user.username}' may not change {model._meta.verbose_name_plural}")


def _text_body(request, field: str) -> str:
    value = request.data.get(field) if hasattr(request.data, "get") else None
    if not isinstance(value, str):
        raise ValidationError({field: "a text is required (an empty text deletes)"})
    return value


def _health(request, choices) -> tuple[int, str]:
    try:
        health = parse_choice(choices, str(request.data.get("health", "")))
    except ValueError as exc:
        raise ValidationError({"health": str(exc)}) from None
    return health, str(request.data.get("reason") or f"set by {request.user.username} (REST)")


class LabViewSet(APIDefaults, viewsets.ModelViewSet):
    permission_classes = [ReadOnlyOrAdmin]


class DeviceViewSet(LabViewSet):
    serializer_class = DeviceSerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        devices = visible_devices(self.request.user, Device.objects.prefetch_related("tags")).order_by("hostname")
        if self.action == "list" and not self.request.query_params.get("all"):
            devices = devices.exclude(health=DeviceHealth.RETIRED)
        for field in ("device_type", "worker_host"):
            if self.request.query_params.get(field):
                devices = devices.filter(**{field: self.request.query_params[field]})
        return devices

    @action(detail=True, methods=["get", "post"])
    def dictionary(self, request, pk=None):
        """GET the device dictionary (``?render=true`` for the configuration); POST ``{dictionary}``."""
        device = self.get_object()
        if request.method == "GET":
            if not can_read_device_config(request.user):
                self.permission_denied(request, "reading a device dictionary needs the right to change devices")
            text = files.read_dictionary(device.hostname)
            if text is None:
                raise NotFound(f"device {device.hostname} has no dictionary")
            if request.query_params.get("render", "").lower() in ("1", "true", "yes"):
                try:
                    text = files.render_device_text(device.hostname, text=text)
                except DeviceConfigError as exc:
                    raise ValidationError({"dictionary": str(exc)}) from None
            return Response({"hostname": device.hostname, "dictionary": text})
        _require_change(request, Device)
        text = _text_body(request, "dictionary")
        if not text:
            files.dictionary_path(device.hostname).unlink(missing_ok=True)
            return Response({"message": "dictionary deleted"})
        try:
            extends = device_type_of_dictionary(text, source=f"{device.hostname}.jinja2")
        except DeviceConfigError as exc:
            raise ValidationError({"dictionary": str(exc)}) from None
        if extends != device.device_type_id:
            raise ValidationError({"dictionary": f"extends '{extends}', the device is a {device.device_type_id}"})
        files.write_dictionary(device.hostname, text)
        return Response({"message": "dictionary updated"})

    @action(detail=True, methods=["post"])
    def set_health(self, request, pk=None):
        """POST ``{health, reason}``: change the device's health (recorded with the reason)."""
        if not device_allows(request.user, self.get_object().hostname, CHANGE):
            self.permission_denied(request, "changing a device's health needs change rights on it")
        health, reason = _health(request, DeviceHealth)
        with transaction.atomic():
            device = Device.objects.select_for_update().get(pk=self.get_object().pk)
            try:
                device.go_health(health, reason, user=request.user, manual=True)
            except TransitionError as exc:
                raise ValidationError({"health": str(exc)}) from None
            device.save()
            wake_scheduler("device")
        return Response({"message": "health updated", "health": device.get_health_display()})


def _type_file(request, name: str, path: Path | None, write_to: Path, readable: Callable[[str], str] = str):
    """GET the file (as ``readable`` shows it to the caller), POST ``{content}`` to replace it."""
    if request.method == "GET":
        if path is None:
            raise NotFound(f"no such file for '{name}'")
        return HttpResponse(readable(path.read_text(encoding="utf-8")), content_type="text/plain; charset=utf-8")
    _require_change(request, DeviceType)
    text = _text_body(request, "content")
    if text:
        files.write_atomically(write_to, text)
    else:
        write_to.unlink(missing_ok=True)
    return Response({"message": "updated" if text else "deleted"})


class DeviceTypeViewSet(LabViewSet):
    serializer_class = DeviceTypeSerializer

    def get_queryset(self):
        return visible_device_types(self.request.user, DeviceType.objects.prefetch_related("aliases")).order_by("name")

    @action(detail=True, methods=["get", "post"])
    def template(self, request, pk=None):
        """GET the device-type template; POST ``{content}`` stores the lab's own (empty: delete it)."""
        name = self.get_object().name
        found = next((Path(p) / f"{name}.jinja2" for p in settings.DEVICE_TYPES_PATHS
                      if (Path(p) / f"{name}.jinja2").is_file()), None)
        return _type_file(request, name, found, Path(settings.DEVICE_TYPES_PATHS[0]) / f"{name}.jinja2")

    @action(detail=True, methods=["get", "post"])
    def health_check(self, request, pk=None):
        """GET the health-check job; POST ``{content}`` replaces it (empty: delete it)."""
        name = self.get_object().name
        found = files.health_check_of_type(name)
        target = found or Path(settings.HEALTH_CHECKS_PATH) / f"{name}.yaml"
        return _type_file(request, name, found, target, lambda text: readable_health_check(text, request.user))


class WorkerViewSet(LabViewSet):
    serializer_class = WorkerSerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        workers = visible_workers(self.request.user).order_by("hostname")
        if self.action == "list" and not self.request.query_params.get("all"):
            workers = workers.exclude(health=WorkerHealth.RETIRED)
        return workers

    @action(detail=True, methods=["post"])
    def set_health(self, request, pk=None):
        """POST ``{health, reason}``: Active, Maintenance or Retired (cascades to devices)."""
        if not worker_allows(request.user, self.get_object().hostname, CHANGE):
            self.permission_denied(request, "changing a worker's health needs change rights on it")
        health, reason = _health(request, WorkerHealth)
        with transaction.atomic():
            worker = Worker.objects.select_for_update().get(pk=self.get_object().pk)
            worker.go_health(health, request.user, reason)
            worker.save()
            wake_scheduler("worker")
        return Response({"message": "health updated", "health": worker.get_health_display()},
                        status=status.HTTP_200_OK)


class TagViewSet(LabViewSet):
    serializer_class = TagSerializer
    queryset = Tag.objects.order_by("name")


class AliasViewSet(LabViewSet):
    serializer_class = AliasSerializer
    queryset = Alias.objects.order_by("name")
