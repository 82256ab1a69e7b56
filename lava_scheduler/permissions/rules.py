"""The one permission rule for device types and devices, used by every reader and writer.

The reference's inverse model (§1.5, §11.5): group rows grant ``view``,
``submit`` or ``change`` on a device type or a device. An object with no row
of a kind is open for that kind (``view`` to anyone, ``submit`` to any
logged-in user; ``change`` is never open: without rows it stays with
superusers and holders of the global permission). Once rows of a kind
exist, only members of those groups have it, besides superusers and holders
of the global permission (``lab.view_device``, ``permissions.submit_to_device``,
``lab.change_device`` and their device-type twins). A device without rows
of a kind follows its device type for that kind. Workers have ``view`` and
``change`` alone, the same way. Health checks are the lab's own jobs: they
are not submitted by anyone and always run.

Callers ask in sets (``hidden_*``: a handful of restricted objects, read in
two small queries) so that lists filter with one ``exclude`` and the
scheduler decides in memory (``SubmitRule``).
"""

import functools
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q

from lava_scheduler.lab.models import Device, DeviceType, Worker
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.permissions.models import (
    GroupDevicePermission,
    GroupDeviceTypePermission,
    GroupWorkerPermission,
)
from lava_scheduler.prepared import fetch_one

VIEW, SUBMIT, CHANGE = "view", "submit", "change"

DEVICE_ROW = {VIEW: "view_device", SUBMIT: "submit_to_device", CHANGE: "change_device"}
DEVICE_TYPE_ROW = {VIEW: "view_devicetype", SUBMIT: "submit_to_devicetype", CHANGE: "change_devicetype"}
GLOBAL_DEVICE = {VIEW: "lab.view_device", SUBMIT: "permissions.submit_to_device", CHANGE: "lab.change_device"}
GLOBAL_DEVICE_TYPE = {
    VIEW: "lab.view_devicetype", SUBMIT: "permissions.submit_to_devicetype", CHANGE: "lab.change_devicetype",
}
WORKER_ROW = {VIEW: "view_worker", CHANGE: "change_worker"}
GLOBAL_WORKER = {VIEW: "lab.view_worker", CHANGE: "lab.change_worker"}


def _logged_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def group_ids(user) -> frozenset[int]:
    if not _logged_in(user):
        return frozenset()
    cached = getattr(user, "_lava_group_ids", None)
    if cached is None:
        cached = user._lava_group_ids = frozenset(user.groups.values_list("pk", flat=True))
    return cached


def privileged(user, permission: str) -> bool:
    """A logged-in superuser, or a holder of the global ``permission``."""
    return _logged_in(user) and (user.is_superuser or user.has_perm(permission))


def _rows(model, key: str, permission: str) -> dict[str, set[int]]:
    groups: dict[str, set[int]] = {}
    # unordered: the models' ordering joins the device (type) and group tables for nothing here
    for name, group in model.objects.filter(permission=permission).order_by().values_list(key, "group_id"):
        groups.setdefault(name, set()).add(group)
    return groups


def _page_rows(user, model, key: str, permission: str) -> dict[str, set[int]]:
    """``_rows``, read once per page (devices and device types both ask for the device types' rows)."""
    return _remembered(user, ("rows", model.__name__, permission), lambda: _rows(model, key, permission))


def _needs_login(kind: str, user) -> bool:
    return kind != VIEW and not _logged_in(user)


PAGE_CACHE = "_lava_page_permissions"


def remember_for_the_page(user) -> None:
    """While one web page renders, what ``user`` may not see is read once, however many of its
    tables ask (a page asks up to eight times). Not for a user object that outlives a request
    (the publisher keeps its clients'): permissions may change meanwhile."""
    setattr(user, PAGE_CACHE, {})


def _remembered(user, key: tuple, compute):
    cache = getattr(user, PAGE_CACHE, None)
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def hidden_device_types(user, kind: str = VIEW) -> set[str] | None:
    """Names of the device types ``user`` lacks ``kind`` on; None means every type (anonymous submit)."""
    return _remembered(user, ("types", kind), lambda: _hidden_device_types(user, kind))


def hidden_devices(user, kind: str = VIEW) -> set[str] | None:
    """Hostnames of the devices ``user`` lacks ``kind`` on; None means every device."""
    return _remembered(user, ("devices", kind), lambda: _hidden_devices(user, kind))


def _hidden_device_types(user, kind: str) -> set[str] | None:
    if _needs_login(kind, user):
        return None
    if _logged_in(user) and user.is_superuser:
        return set()
    restricted = _page_rows(user, GroupDeviceTypePermission, "device_type_id", DEVICE_TYPE_ROW[kind])
    if not restricted and kind != CHANGE:
        return set()  # open to all: who the user is does not matter (no privilege or group query)
    if privileged(user, GLOBAL_DEVICE_TYPE[kind]):
        return set()
    mine = group_ids(user)
    hidden = {name for name, groups in restricted.items() if not groups & mine}
    if kind == CHANGE:
        hidden |= set(DeviceType.objects.exclude(name__in=restricted).values_list("name", flat=True))
    return hidden


def _hidden_devices(user, kind: str) -> set[str] | None:
    if _needs_login(kind, user):
        return None
    if _logged_in(user) and user.is_superuser:
        return set()
    own = _page_rows(user, GroupDevicePermission, "device_id", DEVICE_ROW[kind])
    by_type = _page_rows(user, GroupDeviceTypePermission, "device_type_id", DEVICE_TYPE_ROW[kind])
    if not own and not by_type and kind != CHANGE:
        return set()  # open to all: who the user is does not matter (no privilege or group query)
    if privileged(user, GLOBAL_DEVICE[kind]):
        return set()
    mine = group_ids(user)
    hidden = {hostname for hostname, groups in own.items() if not groups & mine}
    closed_types = [name for name, groups in by_type.items() if not groups & mine]
    following_type = Device.objects.exclude(hostname__in=own)
    if kind == CHANGE:  # never open: a device without rows anywhere is closed too
        following_type = following_type.filter(~Q(device_type__in=[n for n in by_type if n not in closed_types]))
    else:
        following_type = following_type.filter(device_type__in=closed_types)
    hidden |= set(following_type.values_list("hostname", flat=True))
    return hidden


def hidden_workers(user, kind: str = VIEW) -> set[str]:
    """Hostnames of the workers ``user`` lacks ``kind`` (view or change) on."""
    if privileged(user, GLOBAL_WORKER[kind]):
        return set()
    mine = group_ids(user)
    restricted = _rows(GroupWorkerPermission, "worker_id", WORKER_ROW[kind])
    hidden = {hostname for hostname, groups in restricted.items() if not groups & mine}
    if kind == CHANGE:
        hidden |= set(Worker.objects.exclude(hostname__in=restricted).values_list("hostname", flat=True))
    return hidden


def _excluding(queryset, field_name: str, hidden: set[str] | None):
    if hidden is None:
        return queryset.none()
    return queryset.exclude(**{f"{field_name}__in": hidden}) if hidden else queryset


def visible_device_types(user, queryset=None):
    return _excluding(DeviceType.objects.all() if queryset is None else queryset, "name", hidden_device_types(user))


def visible_devices(user, queryset=None):
    return _excluding(Device.objects.all() if queryset is None else queryset, "hostname", hidden_devices(user))


def visible_workers(user, queryset=None):
    return _excluding(Worker.objects.all() if queryset is None else queryset, "hostname", hidden_workers(user))


def worker_allows(user, hostname: str, kind: str) -> bool:
    return hostname not in hidden_workers(user, kind)


def device_type_allows(user, device_type_name: str, kind: str) -> bool:
    hidden = hidden_device_types(user, kind)
    return hidden is not None and device_type_name not in hidden


def device_allows(user, hostname: str, kind: str) -> bool:
    hidden = hidden_devices(user, kind)
    return hidden is not None and hostname not in hidden


@dataclass
class SubmitRule:
    """Who may have a job on which device, decided in memory for a whole scheduling pass."""

    device_groups: dict[str, set[int]] = field(default_factory=dict)
    type_groups: dict[str, set[int]] = field(default_factory=dict)
    privileged: set[int] = field(default_factory=set)
    memberships: dict[int, frozenset[int]] = field(default_factory=dict)
    inactive: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, submitters: set[int]) -> "SubmitRule":
        rule = cls(
            _rows(GroupDevicePermission, "device_id", DEVICE_ROW[SUBMIT]),
            _rows(GroupDeviceTypePermission, "device_type_id", DEVICE_TYPE_ROW[SUBMIT]),
        )
        if not (rule.device_groups or rule.type_groups) or not submitters:
            return rule  # an open lab: no more queries
        users = get_user_model().objects.filter(pk__in=submitters, is_active=True)
        rule.privileged = set(users.filter(is_superuser=True).values_list("pk", flat=True))
        # the same global permission as hidden_devices(user, SUBMIT)
        app_label, codename = GLOBAL_DEVICE[SUBMIT].split(".")
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:
            holders = users.filter(Q(user_permissions=permission) | Q(groups__permissions=permission))
            rule.privileged |= set(holders.values_list("pk", flat=True))
        memberships: dict[int, set[int]] = {}
        for user_id, group in users.model.groups.through.objects.filter(user_id__in=submitters).values_list(
            "user_id", "group_id"
        ):
            memberships.setdefault(user_id, set()).add(group)
        rule.memberships = {user_id: frozenset(groups) for user_id, groups in memberships.items()}
        rule.inactive = set(submitters) - set(users.values_list("pk", flat=True))
        return rule

    def allows(self, submitter: int, hostname: str, device_type: str) -> bool:
        groups = self.device_groups.get(hostname) or self.type_groups.get(device_type)
        if not groups or submitter in self.privileged:
            return True
        return submitter not in self.inactive and bool(groups & self.memberships.get(submitter, frozenset()))


@functools.cache
def _submit_open_query(by_device: bool, by_worker: bool) -> str:
    """SQL answering "no candidate device, or one that the user's groups may submit to" in one round trip.

    The rule of ``hidden_devices(user, SUBMIT)`` for a user without the global permission:
    a device with submit rows of its own is open to those groups, else one whose type has
    submit rows is open to the type's groups, else it is open to every logged-in user.
    """
    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    def column(model, name: str) -> str:
        return connection.ops.quote_name(model._meta.get_field(name).column)

    memberships = get_user_model().groups.through
    device, hostname, device_type = table(Device), f"d.{column(Device, 'hostname')}", f"d.{column(Device, 'device_type')}"
    candidates = f"{device_type} = %(device_type)s AND d.{column(Device, 'health')} <> %(retired)s"
    if by_device:
        candidates += f" AND {hostname} = %(device)s"
    if by_worker:
        candidates += f" AND d.{column(Device, 'worker_host')} = %(worker)s"

    def rows(model, target: str, of: str, permission: str, mine: bool) -> str:
        joined = ""
        if mine:
            joined = (f"JOIN {table(memberships)} m ON m.{column(memberships, 'group')} = p.{column(model, 'group')} "
                      f"AND m.{column(memberships, 'user')} = %(user)s ")
        return (f"EXISTS (SELECT 1 FROM {table(model)} p {joined}"
                f"WHERE p.{column(model, target)} = {of} AND p.{column(model, 'permission')} = {permission})")

    own, own_mine = (rows(GroupDevicePermission, "device", hostname, "%(device_row)s", mine) for mine in (False, True))
    typed, typed_mine = (
        rows(GroupDeviceTypePermission, "device_type", device_type, "%(type_row)s", mine) for mine in (False, True)
    )
    return (
        f"SELECT NOT EXISTS (SELECT 1 FROM {device} d WHERE {candidates}) "
        f"OR EXISTS (SELECT 1 FROM {device} d WHERE {candidates} AND CASE "
        f"WHEN {own} THEN {own_mine} WHEN {typed} THEN {typed_mine} "
        "ELSE TRUE END)"
    )


def _submit_open(user, device_type: str, device: str | None, worker: str | None) -> bool:
    """Whether the group rules alone let ``user`` submit here: true for nearly every submission, in one query."""
    params = {
        "user": user.pk, "device_type": device_type, "device": device, "worker": worker,
        "retired": int(DeviceHealth.RETIRED), "device_row": DEVICE_ROW[SUBMIT], "type_row": DEVICE_TYPE_ROW[SUBMIT],
    }
    by_device, by_worker = device is not None, worker is not None
    row = fetch_one(f"lava_submit_open_{by_device:d}{by_worker:d}", _submit_open_query(by_device, by_worker), params)
    return bool(row[0])


def submit_refusal(user, device_type: str, device: str | None, worker: str | None) -> str | None:
    """Why ``user`` may not have a job on this device type (or device, or worker), or None."""
    if not _logged_in(user):
        return "only a logged-in user may submit jobs"
    if _submit_open(user, device_type, device, worker):
        return None
    # refused by the group rules: the global permission may still allow it, and a refusal names the groups
    candidates = Device.objects.filter(device_type=device_type).exclude(health=DeviceHealth.RETIRED)
    if device is not None:
        candidates = candidates.filter(hostname=device)
    if worker is not None:
        candidates = candidates.filter(worker_host=worker)
    hidden = hidden_devices(user, SUBMIT)
    if not candidates.exists() or candidates.exclude(hostname__in=hidden).exists():
        return None  # no such device at all is resolve_placement's to say
    target = f"device '{device}'" if device is not None else f"any {device_type} device"
    groups = sorted(
        set(GroupDevicePermission.objects.filter(device__in=candidates, permission=DEVICE_ROW[SUBMIT])
            .values_list("group__name", flat=True))
        | set(GroupDeviceTypePermission.objects.filter(device_type=device_type, permission=DEVICE_TYPE_ROW[SUBMIT])
              .values_list("group__name", flat=True))
    )
    return f"you may not submit to {target}: submitting is restricted to the group(s) {', '.join(groups)}"


def restrictions(device_type: str, hostname: str | None = None) -> list[tuple[str, str]]:
    """(permission, group) rows that restrict the device type (and the device), for the pages."""
    rows = list(GroupDeviceTypePermission.objects.filter(device_type=device_type).values_list("permission", "group__name"))
    if hostname is not None:
        rows += GroupDevicePermission.objects.filter(device=hostname).values_list("permission", "group__name")
    return sorted(rows)
