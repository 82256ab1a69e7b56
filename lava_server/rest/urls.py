"""REST API at /api/v0.2/ (Django REST framework), with its OpenAPI schema at ``schema/``."""

from django.urls import include, path, re_path
from rest_framework import routers
from rest_framework.schemas import get_schema_view

from lava_server.rest import accounts, job_extras, jobs, lab, system, worker_files
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
router.register("users", accounts.UserViewSet, basename="users")
router.register("groups", accounts.GroupViewSet, basename="groups")
router.register("permissions/devices", accounts.DevicePermissionViewSet, basename="permissions-devices")
router.register("permissions/devicetypes", accounts.DeviceTypePermissionViewSet, basename="permissions-devicetypes")
router.register("tokens", accounts.ApiTokenViewSet, basename="tokens")
router.register("remote-artifact-tokens", accounts.RemoteArtifactTokenViewSet, basename="remote-artifact-tokens")

schema_view = get_schema_view(
    title="LAVA REST API",
    version="v0.2",
    description="Jobs and their results, devices, device types, workers, tags, aliases, users, groups, "
    "group permissions and tokens of a LAVA lab.",
    permission_classes=[LoginGate],
    authentication_classes=[TokenAuthentication, SessionAuthentication],
    public=True,  # every endpoint, also those an anonymous reader may not call
)

urlpatterns = [
    path("system/version/", system.version, name="rest-system-version"),
    path("system/whoami/", system.whoami, name="rest-system-whoami"),
    path("schema/", schema_view, name="rest-schema"),
    path("token/", accounts.ObtainToken.as_view(), name="rest-token"),
    # before the router: its jobs/<pk>/ would take these names for job ids
    path("jobs/batch_cancel/", job_extras.BatchCancel.as_view(), name="rest-jobs-batch-cancel"),
    path("jobs/validate_testdef/", job_extras.ValidateTestdef.as_view(), name="rest-jobs-validate-testdef"),
    path("jobs/<int:pk>/tap13/", job_extras.JobTap13.as_view(), name="rest-jobs-tap13"),
    re_path(r"^jobs/(?P<pk>[0-9]+)/suites/(?P<suite>[^/]+)/(?P<fmt>csv|yaml|tests)/$",
            job_extras.SuiteExport.as_view(), name="rest-suite"),
    re_path(r"^workers/(?P<hostname>[^/]+)/(?P<kind>config|env|env-dut)/$",
            worker_files.WorkerFile.as_view(), name="rest-worker-file"),
    path("", include(router.urls)),
]
