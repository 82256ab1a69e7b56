"""XML-RPC API at /RPC2 and /RPC2/ (lavacli): both served, never redirected (a POST would become a GET)."""

from django.urls import path

from lava_server.xmlrpc.dispatcher import rpc_view

urlpatterns = [
    path("RPC2", rpc_view, name="xmlrpc"),
    path("RPC2/", rpc_view, name="xmlrpc-slash"),
]
