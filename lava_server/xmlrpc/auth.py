"""``auth.users.*`` and ``auth.groups.*``: Django's users, groups and permissions (lavacli ``users``, ``groups``).

Reading needs the matching Django view permission, writing the change one
(superusers have both). Permissions are named ``app model codename`` as
lavacli sends them, e.g. ``lab device change_device``.
"""

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.db import IntegrityError, transaction

from lava_server.xmlrpc.registry import Context, as_bool, as_text, fault, method, naive_utc, require_admin

VIEW_USER, VIEW_GROUP = "auth.view_user", "auth.view_group"


def _user(username: Any) -> User:
    found = User.objects.filter(username=str(username)).first()
    if found is None:
        raise fault(404, f"User '{username}' was not found.")
    return found


def _group(name: Any) -> Group:
    found = Group.objects.filter(name=str(name)).first()
    if found is None:
        raise fault(404, f"Group '{name}' was not found.")
    return found


def _permission(app: Any, model: Any, codename: Any) -> Permission:
    found = Permission.objects.filter(
        content_type__app_label=str(app), content_type__model=str(model), codename=str(codename)
    ).first()
    if found is None:
        raise fault(404, f"Permission '{app}.{model}.{codename}' was not found.")
    return found


def _described(permissions) -> list[dict[str, str]]:
    return [
        {"app": p.content_type.app_label, "model": p.content_type.model, "codename": p.codename}
        for p in permissions.select_related("content_type").order_by("content_type__app_label", "codename")
    ]


def _dotted(permissions) -> list[str]:
    return [f"{p['app']}.{p['model']}.{p['codename']}" for p in _described(permissions)]


def _optional_text(value: Any, name: str) -> str | None:
    return None if value is None else as_text(value, name)


@method("auth.users.list")
def users_list(ctx: Context) -> list[dict[str, Any]]:
    """Every user: username, names, email and flags (no dates: lavacli prints this list as JSON)."""
    require_admin(ctx, VIEW_USER)
    return [
        {
            "id": user.pk, "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
            "email": user.email, "is_active": user.is_active, "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
        }
        for user in User.objects.order_by("username")
    ]


@method("auth.users.show")
def users_show(ctx: Context, username: str) -> dict[str, Any]:
    """One user, with groups, permissions (``app.model.codename``) and ``date_joined``/``last_login`` as dateTime."""
    require_admin(ctx, VIEW_USER)
    user = _user(username)
    return {
        "id": user.pk, "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": user.is_active, "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": list(user.groups.order_by("name").values_list("name", flat=True)),
        "permissions": _dotted(user.user_permissions),
        "date_joined": naive_utc(user.date_joined), "last_login": naive_utc(user.last_login),
    }


@method("auth.users.add")
def users_add(
    ctx: Context, username: str, first_name: Any = None, last_name: Any = None, email: Any = None,
    is_active: Any = True, is_staff: Any = False, is_superuser: Any = False, ldap: Any = False,
) -> None:
    """Create a user without a password (they get one from an admin, or use an API token made for them)."""
    require_admin(ctx)
    if as_bool(ldap, "ldap"):
        raise fault(400, "ldap: this server has no LDAP directory configured; add the user without --ldap")
    username = as_text(username, "username").strip()
    if not username:
        raise fault(400, "username: must not be empty")
    try:
        with transaction.atomic():
            user = User(
                username=username, first_name=_optional_text(first_name, "first_name") or "",
                last_name=_optional_text(last_name, "last_name") or "", email=_optional_text(email, "email") or "",
                is_active=as_bool(is_active, "is_active"), is_staff=as_bool(is_staff, "is_staff"),
                is_superuser=as_bool(is_superuser, "is_superuser"),
            )
            user.set_unusable_password()
            user.full_clean(exclude=["password"])
            user.save()
    except IntegrityError:
        raise fault(400, f"User '{username}' already exists.") from None


@method("auth.users.update")
def users_update(
    ctx: Context, username: str, first_name: Any = None, last_name: Any = None, email: Any = None,
    is_active: Any = None, is_staff: Any = None, is_superuser: Any = None,
) -> None:
    """Change the fields that are not nil."""
    require_admin(ctx)
    user = _user(username)
    for field, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
        if value is not None:
            setattr(user, field, as_text(value, field))
    for field, value in (("is_active", is_active), ("is_staff", is_staff), ("is_superuser", is_superuser)):
        if value is not None:
            setattr(user, field, as_bool(value, field))
    user.full_clean(exclude=["password"])
    user.save()


@method("auth.users.delete")
def users_delete(ctx: Context, username: str) -> None:
    """Delete a user who never submitted a job (jobs keep their submitter: deactivate those users instead)."""
    caller = require_admin(ctx)
    user = _user(username)
    if user.pk == caller.pk:
        raise fault(400, "A user cannot delete their own account through the API.")
    try:
        user.delete()
    except IntegrityError:  # ProtectedError: jobs name them as submitter
        raise fault(400, f"User '{username}' has submitted jobs and cannot be deleted; deactivate the account "
                         "instead (lavacli users update --no-active).") from None


@method("auth.users.groups.list")
def users_groups_list(ctx: Context, username: str) -> list[str]:
    require_admin(ctx, VIEW_USER)
    return list(_user(username).groups.order_by("name").values_list("name", flat=True))


@method("auth.users.groups.add")
def users_groups_add(ctx: Context, username: str, group: str) -> None:
    require_admin(ctx)
    _user(username).groups.add(_group(group))


@method("auth.users.groups.delete")
def users_groups_delete(ctx: Context, username: str, group: str) -> None:
    require_admin(ctx)
    _user(username).groups.remove(_group(group))


@method("auth.users.perms.list")
def users_perms_list(ctx: Context, username: str) -> list[dict[str, str]]:
    """The user's own permissions (not those of their groups) as ``{app, model, codename}``."""
    require_admin(ctx, VIEW_USER)
    return _described(_user(username).user_permissions)


@method("auth.users.perms.add")
def users_perms_add(ctx: Context, username: str, app: str, model: str, codename: str) -> None:
    require_admin(ctx)
    _user(username).user_permissions.add(_permission(app, model, codename))


@method("auth.users.perms.delete")
def users_perms_delete(ctx: Context, username: str, app: str, model: str, codename: str) -> None:
    require_admin(ctx)
    _user(username).user_permissions.remove(_permission(app, model, codename))


@method("auth.groups.list")
def groups_list(ctx: Context) -> list[str]:
    require_admin(ctx, VIEW_GROUP)
    return list(Group.objects.order_by("name").values_list("name", flat=True))


@method("auth.groups.show")
def groups_show(ctx: Context, name: str) -> dict[str, Any]:
    """A group: id, name, permissions (``app.model.codename``) and member usernames."""
    require_admin(ctx, VIEW_GROUP)
    group = _group(name)
    return {
        "id": group.pk, "name": group.name, "permissions": _dotted(group.permissions),
        "users": list(group.user_set.order_by("username").values_list("username", flat=True)),
    }


@method("auth.groups.add")
def groups_add(ctx: Context, name: str) -> None:
    require_admin(ctx)
    name = as_text(name, "name").strip()
    if not name:
        raise fault(400, "name: must not be empty")
    _, created = Group.objects.get_or_create(name=name)
    if not created:
        raise fault(400, f"Group '{name}' already exists.")


@method("auth.groups.delete")
def groups_delete(ctx: Context, name: str) -> None:
    require_admin(ctx)
    _group(name).delete()


@method("auth.groups.perms.list")
def groups_perms_list(ctx: Context, name: str) -> list[dict[str, str]]:
    require_admin(ctx, VIEW_GROUP)
    return _described(_group(name).permissions)


@method("auth.groups.perms.add")
def groups_perms_add(ctx: Context, name: str, app: str, model: str, codename: str) -> None:
    require_admin(ctx)
    _group(name).permissions.add(_permission(app, model, codename))


@method("auth.groups.perms.delete")
def groups_perms_delete(ctx: Context, name: str, app: str, model: str, codename: str) -> None:
    require_admin(ctx)
    _group(name).permissions.remove(_permission(app, model, codename))
