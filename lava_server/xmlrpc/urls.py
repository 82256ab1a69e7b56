"""XML-RPC API at /RPC2 and /RPC2/ (lavacli): both served, never redirected (a POST would become a GET)."""

from django.urls import path

from lava_server.xmlrpc.dispatcher import rpc_view

# the paths as Django's request.path_info has them (XmlRpcShortcut serves them before the URL map)
RPC_PATHS = frozenset({"/RPC2", "/RPC2/"})

urlpatterns = [
    path("RPC2", rpc_view, name="xmlrpc"),
    path("RPC2/", rpc_view, name="xmlrpc-slash"),
]
