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


def frames(kind: str, username: str, data: str, when: bytes | None = None, uuid: bytes | None = None) -> Frames:
    """One event (``data``: its JSON text); ``when`` (ISO time, encoded) and ``uuid``: given by a caller
    that sends a batch of events (one time for all, identifiers made at once)."""
    return [
        TOPICS.get(kind) or (TOPIC_PREFIX + kind).encode(),
        uuid or random_uuids(1)[0],
        when or event_time(),
        username.encode(),
        data.encode(),
    ]


def event_time() -> bytes:
    return timezone.now().isoformat().encode()


def random_uuids(count: int) -> list[bytes]:
    """Version 4 UUIDs as text, a few times cheaper than ``str(uuid.uuid4())`` (two thousand a pass);
    identifiers, not secrets: the process's random generator (reseeded in forked children) will do."""
    digits = f"{random.getrandbits(128 * count):0{32 * count}x}"
    uuids = []
    for start in range(0, 32 * count, 32):
        d = digits[start:start + 32]
        variant = "89ab"[int(d[16], 16) & 3]
        uuids.append(f"{d[:8]}-{d[8:12]}-4{d[13:16]}-{variant}{d[17:20]}-{d[20:]}".encode())
    return uuids


# The job and device events are written as text, key by key in json.dumps's own format: the
# scheduler sends a thousand of each a pass, and building then encoding a dictionary cost four
# times more. A string is written by the json module's own function (json.dumps's default
# ensure_ascii), labels and flags are constant texts.
_string = encode_basestring_ascii
_JOB_STATES = {value: _string(label) for value, label in JOB_STATES.items()}
_JOB_HEALTHS = {value: _string(label) for value, label in JOB_HEALTHS.items()}
_DEVICE_STATES = {value: _string(label) for value, label in DEVICE_STATES.items()}
_DEVICE_HEALTHS = {value: _string(label) for value, label in DEVICE_HEALTHS.items()}


def _nullable(text: str | None) -> str:
    return "null" if text is None else _string(text)


def job_json(job, submitter: str, worker: str | None) -> str:
    """The event data of a job: health, state, job, description, priority, submit_time, submitter,
    health_check, then sub_id, device, worker, device_type, start_time, end_time where set."""
    text = (f'{{"health": {_JOB_HEALTHS[job.health]}, "state": {_JOB_STATES[job.state]}, '
            f'"job": {_string(job.display_id)}, "description": {_string(job.description)}, '
            f'"priority": {int(job.priority)}, "submit_time": {_nullable(_iso(job.submit_time))}, '
            f'"submitter": {_string(submitter)}, "health_check": {"true" if job.health_check else "false"}')
    if job.sub_id:
        text += f', "sub_id": {_string(job.sub_id)}'
    if job.actual_device_id:
        text += f', "device": {_string(job.actual_device_id)}'
        if worker:
            text += f', "worker": {_string(worker)}'
    if job.requested_device_type_id:
        text += f', "device_type": {_string(job.requested_device_type_id)}'
    if job.start_time:
        text += f', "start_time": {_string(_iso(job.start_time))}'
    if job.end_time:
        text += f', "end_time": {_string(_iso(job.end_time))}'
    return text + "}"


def device_json(device, job_id: str | None = None) -> str:
    """The event data of a device: health, state, device, device_type, worker, then job if any."""
    text = (f'{{"health": {_DEVICE_HEALTHS[device.health]}, "state": {_DEVICE_STATES[device.state]}, '
            f'"device": {_string(device.hostname)}, "device_type": {_nullable(device.device_type_id)}, '
            f'"worker": {_nullable(device.worker_host_id)}')
    if job_id:
        text += f', "job": {_string(job_id)}'
    return text + "}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


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
