"""REST API at /api/v0.2/ (Django REST framework), with its OpenAPI schema at ``schema/``."""

from django.urls import include, path
from rest_framework import routers
from rest_framework.schemas import get_schema_view

from lava_server.rest import jobs, lab, system
from lava_server.rest.authentication import LoginGate, SessionAuthentication, TokenAuthentication


class APIRoot(routers.APIRootView):
    """The list of endpoints, behind the same login gate as they are."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [LoginGate]


router = routers.DefaultRouter()
router.APIRootView = APIRoot
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
    permission_classes=[LoginGate],
    authentication_classes=[TokenAuthentication, SessionAuthentication],
)

urlpatterns = [
    path("system/version/", system.version, name="rest-system-version"),
    path("system/whoami/", system.whoami, name="rest-system-whoami"),
    path("schema/", schema_view, name="rest-schema"),
    path("", include(router.urls)),
]
