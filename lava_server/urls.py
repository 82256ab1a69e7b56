"""URL map: each area owns its own ``urls`` module."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("lava_server.xmlrpc.urls")),
    path("api/v0.2/", include("lava_server.rest.urls")),
    path("", include("lava_server.web.urls")),
]
