"""REST API at /api/v0.2/ (Django REST framework), with its OpenAPI schema at ``schema/``."""

from django.urls import include, path
from rest_framework import permissions, routers
from rest_framework.schemas import get_schema_view

from lava_server.rest import jobs, lab, system

router = routers.DefaultRouter()
router.register("jobs", jobs.JobViewSet, basename="jobs")
router.register("devices", lab.DeviceViewSet, basename="devices")
router.register("devicetypes", lab.DeviceTypeViewSet, basename="devicetypes")
router.register("workers", lab.WorkerViewSet, basename="workers")
router.register("tags", lab.TagViewSet, basename="tags")
router.register("aliases", lab.AliasViewSet, basename="aliases")

schema_view = get_schema_view(
    title="LAVA REST API",
    version="v0.2",
    description="Jobs, devices, device types, workers, tags and aliases of a LAVA lab.",
    permission_classes=[permissions.AllowAny],
    authentication_classes=[],
)

urlpatterns = [
    path("system/version/", system.version, name="rest-system-version"),
    path("system/whoami/", system.whoami, name="rest-system-whoami"),
    path("schema/", schema_view, name="rest-schema"),
    path("", include(router.urls)),
]
