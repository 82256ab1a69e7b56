"""``/api/v0.2/`` users, groups, group permissions on devices, API tokens and remote artifact tokens.

Users and groups: reading needs Django's view permission, writing is for
superusers only (an editor of users or groups could grant themselves anything). API tokens: each user manages their own; the
secret is shown once, when the token is made (``token/`` makes one from a
username and password).
"""

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView

from lava_scheduler.lab.models import Device, DeviceType
from lava_scheduler.permissions.models import GroupDevicePermission, GroupDeviceTypePermission
from lava_server.accounts.models import AuthToken
from lava_server.remote_artifacts.models import RemoteArtifactToken
from lava_server.rest.authentication import APIDefaults


class DjangoModelRights(permissions.BasePermission):
    """Reads need ``<app>.view_<model>``, writes ``<app>.change_<model>`` (add/delete for those verbs)."""

    verbs = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        model = view.get_queryset().model
        verb = "view" if request.method in permissions.SAFE_METHODS else self.verbs.get(request.method, "change")
        return user.is_superuser or user.has_perm(f"{model._meta.app_label}.{verb}_{model._meta.model_name}")


class AdminViewSet(APIDefaults, viewsets.ModelViewSet):
    permission_classes = [DjangoModelRights]


class ViewRightsSuperuserWrites(DjangoModelRights):
    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_superuser)


class AccountsViewSet(AdminViewSet):
    permission_classes = [ViewRightsSuperuserWrites]


class UserSerializer(serializers.ModelSerializer):
    groups = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Group.objects.all(),
                                          required=False)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser",
                  "groups", "date_joined", "last_login"]
        read_only_fields = ["id", "date_joined", "last_login"]


class UserViewSet(AccountsViewSet):
    serializer_class = UserSerializer
    queryset = User.objects.prefetch_related("groups").order_by("username")
    lookup_field = "username"
    lookup_value_regex = "[^/]+"

    def perform_create(self, serializer):
        user = serializer.save()
        user.set_unusable_password()  # an admin sets one, or the user works with API tokens
        user.save(update_fields=["password"])


class GroupSerializer(serializers.ModelSerializer):
    users = serializers.SlugRelatedField(source="user_set", slug_field="username", many=True, read_only=True)

    class Meta:
        model = Group
        fields = ["id", "name", "users"]


class GroupViewSet(AccountsViewSet):
    serializer_class = GroupSerializer
    queryset = Group.objects.prefetch_related("user_set").order_by("name")


class DevicePermissionSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="name", queryset=Group.objects.all())
    device = serializers.SlugRelatedField(slug_field="hostname", queryset=Device.objects.all())

    class Meta:
        model = GroupDevicePermission
        fields = ["id", "group", "device", "permission"]


class DevicePermissionViewSet(AdminViewSet):
    """Group permissions on devices (stored; enforced by the permission rules)."""

    serializer_class = DevicePermissionSerializer
    queryset = GroupDevicePermission.objects.select_related("group").all()


class DeviceTypePermissionSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="name", queryset=Group.objects.all())
    devicetype = serializers.SlugRelatedField(source="device_type", slug_field="name",
                                              queryset=DeviceType.objects.all())

    class Meta:
        model = GroupDeviceTypePermission
        fields = ["id", "group", "devicetype", "permission"]


class DeviceTypePermissionViewSet(AdminViewSet):
    """Group permissions on device types (stored; enforced by the permission rules)."""

    serializer_class = DeviceTypePermissionSerializer
    queryset = GroupDeviceTypePermission.objects.select_related("group", "device_type").all()


def new_api_token(user, description: str) -> tuple[AuthToken, str]:
    """A new API token of ``user`` and its secret, the only time the secret can be read."""
    token = AuthToken.objects.create(user=user, description=description)
    return token, token.secret


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuthToken
        fields = ["id", "description", "created_on", "last_used_on"]
        read_only_fields = ["id", "created_on", "last_used_on"]


class ApiTokenViewSet(APIDefaults, viewsets.ModelViewSet):
    """The caller's own API tokens; the secret comes only in the answer that creates one."""

    serializer_class = ApiTokenSerializer
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        return AuthToken.objects.filter(user=self.request.user).order_by("id")

    def create(self, request):
        body = ApiTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = new_api_token(request.user, body.validated_data.get("description", ""))
        return Response({**ApiTokenSerializer(token).data, "token": secret}, status=status.HTTP_201_CREATED)


class Credentials(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class ObtainToken(APIView):
    """POST ``{username, password}``: a new API token for that user (``{"token": secret}``)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = Credentials

    def post(self, request):
        body = Credentials(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticate(request, **body.validated_data)
        if user is None or not user.is_active:
            raise AuthenticationFailed("wrong username or password")
        _, secret = new_api_token(user, "made by POST /api/v0.2/token/")
        return Response({"token": secret})


class RemoteArtifactTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = RemoteArtifactToken
        fields = ["id", "name", "token"]

    def validate_name(self, name: str) -> str:
        user = self.context["request"].user
        others = RemoteArtifactToken.objects.filter(user=user, name=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(f"you already have a token named '{name}'")
        return name


class RemoteArtifactTokenViewSet(APIDefaults, viewsets.ModelViewSet):
    """The caller's own tokens for remote artifact servers."""

    serializer_class = RemoteArtifactTokenSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return RemoteArtifactToken.objects.filter(user=self.request.user).order_by("name")

    def perform_create(self, serializer):
        serializer.save(user=self.request.user)
