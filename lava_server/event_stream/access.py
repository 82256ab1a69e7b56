"""Which events a websocket client may receive: those about objects its user may see.

Job and test-case events follow the job's visibility (``jobs.visibility``),
device and worker events the device's and the worker's (group permissions,
``permissions.rules``). The ZeroMQ
PUB socket has no authentication: it carries what an anonymous user may see.
A websocket client's groups are read when it connects (reconnect to see a change).
"""

from typing import Any

from django.db.models import Q

from lava_scheduler.jobs.visibility import visible_jobs
from lava_scheduler.permissions.rules import VIEW, device_allows, worker_allows

JOB_TOPICS = ("testjob", "testcase", "event")


def _job_filter(display_id: str) -> Q:
    query = Q(sub_id=display_id)
    if display_id.isdigit():
        query |= Q(pk=int(display_id))
    return query


def may_see(user, kind: str, data: dict[str, Any]) -> bool:
    if kind in JOB_TOPICS:
        display_id = str(data.get("job") or "")
        return bool(display_id) and visible_jobs(user).filter(_job_filter(display_id)).exists()
    if kind == "device":
        return device_allows(user, str(data.get("device")), VIEW)
    return kind == "worker" and worker_allows(user, str(data.get("hostname")), VIEW)
