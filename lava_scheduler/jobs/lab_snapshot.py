"""What submission checks a job against, read once and kept for a moment.

Checking that a job can ever run here (its type, device, worker, tags) took
five queries per submission. A snapshot of those facts is read with four
queries and reused for ``MAX_AGE`` seconds, and dropped at once when this
process changes any of them. Submission trusts a snapshot only to accept a
job: before refusing one it looks again at fresh data, so a refusal is never
based on stale facts; the scheduler re-checks everything when it assigns.
"""

import time
from dataclasses import dataclass, field

from django.db.models.signals import m2m_changed, post_delete, post_save

from lava_scheduler.lab.models import Alias, Device, DeviceType, Tag, Worker
from lava_scheduler.lab.states import DeviceHealth

MAX_AGE = 2.0  # seconds


@dataclass(frozen=True)
class DeviceFacts:
    hostname: str
    device_type: str
    worker: str | None
    retired: bool
    tags: frozenset[str]


@dataclass
class LabSnapshot:
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> device type
    device_types: set[str] = field(default_factory=set)
    workers: set[str] = field(default_factory=set)
    tags: dict[str, int] = field(default_factory=dict)  # name -> id
    devices: dict[str, DeviceFacts] = field(default_factory=dict)
    taken: float = 0.0

    @classmethod
    def read(cls) -> "LabSnapshot":
        snapshot = cls(taken=time.monotonic())
        snapshot.aliases = dict(Alias.objects.values_list("name", "device_type_id"))
        snapshot.device_types = set(DeviceType.objects.values_list("name", flat=True))
        snapshot.workers = set(Worker.objects.values_list("hostname", flat=True))
        snapshot.tags = dict(Tag.objects.values_list("name", "id"))
        device_tags: dict[str, set[str]] = {}
        names = {tag_id: name for name, tag_id in snapshot.tags.items()}
        for hostname, tag_id in Device.tags.through.objects.values_list("device_id", "tag_id"):
            device_tags.setdefault(hostname, set()).add(names[tag_id])
        for hostname, device_type, worker, health in Device.objects.values_list(
            "hostname", "device_type", "worker_host", "health"
        ):
            snapshot.devices[hostname] = DeviceFacts(
                hostname, device_type, worker, health == DeviceHealth.RETIRED,
                frozenset(device_tags.get(hostname, ())),
            )
        return snapshot

    def resolve_type(self, name: str) -> str | None:
        if name in self.aliases:
            return self.aliases[name]
        return name if name in self.device_types else None


_current: LabSnapshot | None = None


def lab_snapshot(fresh: bool = False) -> LabSnapshot:
    global _current
    if fresh or _current is None or time.monotonic() - _current.taken > MAX_AGE:
        _current = LabSnapshot.read()
    return _current


def forget_snapshot(**_) -> None:
    global _current
    _current = None


for model in (Alias, DeviceType, Worker, Tag, Device):
    post_save.connect(forget_snapshot, sender=model, dispatch_uid=f"lab-snapshot-save-{model.__name__}")
    post_delete.connect(forget_snapshot, sender=model, dispatch_uid=f"lab-snapshot-delete-{model.__name__}")
m2m_changed.connect(forget_snapshot, sender=Device.tags.through, dispatch_uid="lab-snapshot-device-tags")
