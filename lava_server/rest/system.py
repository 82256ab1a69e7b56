"""``/api/v0.2/system/``: version and identity."""

from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

import lava_common
from lava_server.rest.authentication import LoginGate, SessionAuthentication, TokenAuthentication

AUTH = [TokenAuthentication, SessionAuthentication]


@api_view(["GET"])
@authentication_classes(AUTH)
@permission_classes([LoginGate])
def version(request):
    """The server version (calendar form)."""
    return Response({"version": lava_common.__version__})


@api_view(["GET"])
@authentication_classes(AUTH)
@permission_classes([LoginGate])
def whoami(request):
    """The caller's username (null when anonymous)."""
    return Response({"user": request.user.username if request.user.is_authenticated else None})
