"""What a device dictionary's ``sync_to_lava`` says its database rows must be.

The reference lets a dictionary carry its own row::

    {% set sync_to_lava = {
      'device_type': 'beaglebone-black', 'worker': 'lab-worker-1',
      'tags': ['usb'], 'aliases': ['bbb'],
      'physical_owner': 'alice', 'physical_group': 'team-a',
      'group_device_permissions': [['submit_to_device', 'team-a'], ['view_device', 'team-b']],
    } %}

The value is read from the template's syntax tree as a constant: nothing in
the dictionary runs. Django-free, so a test or a script can check a file alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import Environment, TemplateSyntaxError, nodes

from lava_scheduler.lab.permission_names import DEVICE_PERMISSIONS

KEYS = ("device_type", "worker", "tags", "aliases", "physical_owner", "physical_group", "group_device_permissions")


class SyncSpecError(ValueError):
    """The dictionary's sync_to_lava is not usable; the message names the file and the key."""


@dataclass(frozen=True)
class SyncSpec:
    device_type: str
    worker: str
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    physical_owner: str | None = None
    physical_group: str | None = None
    group_permissions: tuple[tuple[str, str], ...] = field(default=())  # (permission, group name)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item for item in value):
        raise SyncSpecError(f"{where}: expected a list of names, got {value!r}")
    return tuple(value)


def _permissions(value: object, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, (list, tuple)):
        raise SyncSpecError(f"{where}: expected a list of [permission, group] pairs, got {value!r}")
    pairs = []
    for index, pair in enumerate(value):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise SyncSpecError(f"{where}[{index}]: expected [permission, group], got {pair!r}")
        if pair[0] not in DEVICE_PERMISSIONS:
            raise SyncSpecError(f"{where}[{index}]: unknown permission {pair[0]!r} "
                                f"(one of {', '.join(DEVICE_PERMISSIONS)})")
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def read_sync_spec(text: str, source: str) -> SyncSpec | None:
    """The dictionary's sync_to_lava, or None when it has none."""
    try:
        tree = Environment().parse(text)
    except TemplateSyntaxError as exc:
        raise SyncSpecError(f"{source}: line {exc.lineno}: {exc.message}") from None
    assignments = [n for n in tree.find_all(nodes.Assign)
                   if isinstance(n.target, nodes.Name) and n.target.name == "sync_to_lava"]
    if not assignments:
        return None
    where = f"{source}: sync_to_lava"
    try:
        value = assignments[-1].node.as_const()
    except nodes.Impossible:
        raise SyncSpecError(f"{where}: must be a constant mapping (no variables or filters)") from None
    if not isinstance(value, dict):
        raise SyncSpecError(f"{where}: expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise SyncSpecError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(KEYS)})")
    for key in ("device_type", "worker"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise SyncSpecError(f"{where}.{key}: required, a name")
    for key in ("physical_owner", "physical_group"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise SyncSpecError(f"{where}.{key}: expected a name, got {value[key]!r}")
    return SyncSpec(
        device_type=value["device_type"],
        worker=value["worker"],
        tags=_strings(value.get("tags", []), f"{where}.tags"),
        aliases=_strings(value.get("aliases", []), f"{where}.aliases"),
        physical_owner=value.get("physical_owner") or None,
        physical_group=value.get("physical_group") or None,
        group_permissions=_permissions(value.get("group_device_permissions", []), f"{where}.group_device_permissions"),
    )
