"""A MultiNode sub-job's side of the protocol, as text: its place in the group as its definition
says it (``protocols.lava-multinode``), and the calls its test shell prints.

Validation needs this and nothing of the coordinator: ``multinode.py`` talks to the coordinator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lava_common.constants import LAVA_MULTINODE_SYSTEM_TIMEOUT
from lava_common.exceptions import JobError
from lava_common.records import record
from lava_common.timeouts import timeout_seconds
from lava_dispatcher.protocols.multinode_requests import job_action_requests

PROTOCOL = "lava-multinode"
WHERE = f"protocols.{PROTOCOL}"
# what the server writes at the top of a secondary connection's sub-job (the reference's place for them)
CONNECTION_KEYS = ("connection", "host_role")
# the only secondary connection there is: an ssh login to the host role's board
CONNECTIONS = ("ssh",)
# what the helpers print (lava-multinode-functions); any console noise before it is allowed
SIGNAL_PATTERN = r"<LAVA_MULTI_NODE> <LAVA_(SEND|WAIT_ALL|WAIT|SYNC)( [^<>\r\n]*)?>"
_SIGNAL = re.compile(SIGNAL_PATTERN)


@record(frozen=True)
class MultinodeSettings:
    target_group: str
    role: str
    roles: Mapping[str, str]  # job id -> role
    group_size: int
    timeout: float  # seconds allowed to each API call (lava-wait, lava-sync...)
    essential: bool = False
    expect_role: str | None = None
    network: bool = False  # the group's QEMU boards get a network of their own (multinode_network)

    @classmethod
    def from_job(cls, job: Mapping[str, Any]) -> MultinodeSettings | None:
        data = (job.get("protocols") or {}).get(PROTOCOL)
        if data is None:
            return None
        if not isinstance(data, dict):
            raise JobError(f"{WHERE}: must be a mapping")
        errors: list[str] = []

        def text(key: str) -> str:
            value = data.get(key)
            if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
                errors.append(f"{WHERE}.{key}: required, a non-empty string")
                return ""
            return str(value)

        target_group, role = text("target_group"), text("role")
        roles = data.get("roles")
        if not isinstance(roles, dict) or not roles or not all(
            isinstance(r, str) and r for r in roles.values()
        ):
            errors.append(f"{WHERE}.roles: required, a mapping of job id to role name "
                          "(written by the server when the whole group is scheduled)")
            roles = {}
        size = data.get("group_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            errors.append(f"{WHERE}.group_size: required, a positive integer")
        elif roles and size != len(roles):
            errors.append(f"{WHERE}.group_size: {size}, but roles lists {len(roles)} members")
        timeout = data.get("timeout")
        seconds = float(LAVA_MULTINODE_SYSTEM_TIMEOUT)
        if timeout is not None:
            if not isinstance(timeout, dict) or _timeout_or_none(timeout) is None:
                errors.append(f"{WHERE}.timeout: must be a mapping such as {{minutes: 5}}")
            else:
                seconds = float(timeout_seconds(timeout)) or seconds
        essential = data.get("essential", False)
        if not isinstance(essential, bool):
            errors.append(f"{WHERE}.essential: must be true or false")
        network = data.get("network", False)
        if not isinstance(network, bool):
            errors.append(f"{WHERE}.network: must be true or false")
        expect_role = data.get("expect_role")
        if expect_role is not None and (not isinstance(expect_role, str) or expect_role not in roles.values()):
            errors.append(f"{WHERE}.expect_role: {expect_role!r} is not a role of the group")
        if role and roles and role not in roles.values():
            errors.append(f"{WHERE}.role: '{role}' is not in roles ({', '.join(sorted(set(roles.values())))})")
        host_role = job.get("host_role")
        if host_role is not None:
            if not isinstance(host_role, str) or host_role not in roles.values() or host_role == role:
                errors.append(f"host_role: {host_role!r} is not another role of the group")
            if job.get("connection") not in CONNECTIONS:
                errors.append(f"connection: {job.get('connection')!r}: a secondary connection is one of "
                              f"{', '.join(CONNECTIONS)}")
        errors += job_action_requests(job)
        if errors:
            raise JobError("; ".join(errors))
        return cls(target_group, role, {str(k): v for k, v in roles.items()}, int(size), seconds,
                   essential, expect_role if data.get("request") == "lava-start" else None, network)


def _timeout_or_none(value: dict[str, Any]) -> int | None:
    try:
        return timeout_seconds(value)
    except (TypeError, ValueError):
        return None


def is_sub_job(job: Mapping[str, Any]) -> bool:
    protocols = job.get("protocols")  # any shape: the schema, later, says what is wrong with it
    data = protocols.get(PROTOCOL) if isinstance(protocols, dict) else None
    return isinstance(data, dict) and "group_size" in data


def without_protocol(job: Mapping[str, Any]) -> dict[str, Any]:
    """The job as a single-node job, for the submission schema (which refuses sub-jobs); the
    protocol block is checked by MultinodeSettings.from_job instead."""
    protocols = {k: v for k, v in (job.get("protocols") or {}).items() if k != PROTOCOL}
    stripped = {k: v for k, v in job.items() if k not in ("protocols", *CONNECTION_KEYS)}
    if "host_role" in job and "device_type" not in stripped:
        # the schema asks a single job for its device type; a secondary connection has none of its own
        stripped["device_type"] = "secondary-connection"
    if protocols:
        stripped["protocols"] = protocols
    return stripped


@record(frozen=True)
class MultinodeCall:
    api: str  # SEND, WAIT, WAIT_ALL, SYNC
    message_id: str
    arguments: tuple[str, ...]  # key=value pairs (SEND) or the role (WAIT_ALL)


def parse_signal(text: str) -> MultinodeCall | None:
    match = _SIGNAL.search(text)
    if match is None:
        return None
    words = (match.group(2) or "").split()
    return MultinodeCall(match.group(1), words[0] if words else "", tuple(words[1:]))
