"""Event messages in the reference's format.

Five frames: topic (``org.lavasoftware.testjob|device|worker|testcase``),
a UUID (random, version 4: the reference's UUID1 costs three times more, and clients only
use it as an identifier), the ISO time, a username and the JSON data. Data fields are the
reference's; labels (``Running``, ``Good``...) are what ``lavacli events``
compares with.
"""

import json
import random
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Any

from django.utils import timezone

from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.states import DeviceHealth, DeviceState

TOPIC_PREFIX = "org.lavasoftware."
Frames = list[bytes]
TOPICS = {kind: (TOPIC_PREFIX + kind).encode() for kind in ("testjob", "device", "worker", "testcase")}
# label lookups by value: the scheduler emits a thousand messages a pass, and get_FOO_display() is slow
JOB_STATES, JOB_HEALTHS = dict(JobState.choices), dict(JobHealth.choices)
DEVICE_STATES, DEVICE_HEALTHS = dict(DeviceState.choices), dict(DeviceHealth.choices)


def _json_encoder():
    """``json.dumps``'s own C encoder with its default settings, made once: ``json.dumps`` makes a new
    one at every call, which costs more than encoding an event (the scheduler sends two thousand)."""
    if c_make_encoder is None:  # a Python built without the json module's C part
        return json.dumps
    # no circular-reference markers: events are flat dictionaries
    encode = c_make_encoder(None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ",
                            False, False, True)
    return lambda data: "".join(encode(data, 0))


to_json = _json_encoder()


def frames(kind: str, username: str, data: dict[str, Any], when: bytes | None = None) -> Frames:
    """One event; ``when`` (ISO time, encoded): the time of a batch of events, computed once for all."""
    return [
        TOPICS.get(kind) or (TOPIC_PREFIX + kind).encode(),
        random_uuid(),
        when or event_time(),
        username.encode(),
        to_json(data).encode(),
    ]


def event_time() -> bytes:
    return timezone.now().isoformat().encode()


def random_uuid() -> bytes:
    """A version 4 UUID as text, a few times cheaper than ``str(uuid.uuid4())`` (a thousand a pass);
    an identifier, not a secret: the process's random generator (reseeded in forked children) will do."""
    digits = f"{random.getrandbits(128):032x}"
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}".encode()


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def job_data(job, submitter: str, worker: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "health": JOB_HEALTHS[job.health],
        "state": JOB_STATES[job.state],
        "job": job.display_id,
        "description": job.description,
        "priority": job.priority,
        "submit_time": _iso(job.submit_time),
        "submitter": submitter,
        "health_check": job.health_check,
    }
    if job.sub_id:
        data["sub_id"] = job.sub_id
    if job.actual_device_id:
        data["device"] = job.actual_device_id
        if worker:
            data["worker"] = worker
    if job.requested_device_type_id:
        data["device_type"] = job.requested_device_type_id
    if job.start_time:
        data["start_time"] = _iso(job.start_time)
    if job.end_time:
        data["end_time"] = _iso(job.end_time)
    return data


def device_data(device, job_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "health": DEVICE_HEALTHS[device.health],
        "state": DEVICE_STATES[device.state],
        "device": device.hostname,
        "device_type": device.device_type_id,
        "worker": device.worker_host_id,
    }
    if job_id:
        data["job"] = job_id
    return data


def worker_data(worker) -> dict[str, Any]:
    return {"hostname": worker.hostname, "health": worker.get_health_display(), "state": worker.get_state_display()}


def test_case_data(job, suite: str, case) -> dict[str, Any]:
    return {
        "job": job.display_id,
        "suite": suite,
        "case": case.name,
        "result": case.get_result_display(),
        "measurement": None if case.measurement is None else str(case.measurement),
        "units": case.units,
    }
