"""REST authentication and permissions: the same tokens as XML-RPC, anonymous read-only."""

from rest_framework import authentication, exceptions, permissions
from rest_framework.pagination import LimitOffsetPagination

from lava_server.auth import AuthenticationFailed, user_from_authorization
from lava_server.login_gate import REFUSAL, refuses


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <secret>`` (or HTTP Basic with username and token, as lavacli sends)."""

    def authenticate(self, request):
        header = request.headers.get("Authorization")
        if not header:
            return None
        try:
            user = user_from_authorization(header)
        except AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        return user, None

    def authenticate_header(self, request) -> str:
        # makes DRF answer 401 (not 403) to a wrong token
        return 'Token realm="LAVA REST API"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The web UI's login, with CSRF checks on writes (as DRF's)."""


class LoginGate(permissions.BasePermission):
    """Under ``LOGIN_REQUIRED``, anonymous callers get 401 on every endpoint (checked before the view's own rules)."""

    message = REFUSAL

    def has_permission(self, request, view) -> bool:
        return not refuses(request.user)


# each REST write needs its own Django permission on the model; any other write
# (``set_health``, ``dictionary``...) changes an existing object
WRITE_PERMISSIONS = {"create": "add", "update": "change", "partial_update": "change", "destroy": "delete"}


class ReadOnlyOrAdmin(permissions.BasePermission):
    """Anyone may read; a write needs a superuser or the model's add, change or delete permission."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        model = view.get_queryset().model
        verb = WRITE_PERMISSIONS.get(getattr(view, "action", None), "change")
        return user.has_perm(f"{model._meta.app_label}.{verb}_{model._meta.model_name}")


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 1000


class APIDefaults:
    """Mixed into every REST view of ours (the project sets no global REST_FRAMEWORK settings)."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    pagination_class = Pagination

    def get_permissions(self):
        # actions choose their own permission classes: the gate comes first whatever they choose
        return [LoginGate(), *super().get_permissions()]
