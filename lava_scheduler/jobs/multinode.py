"""Splitting a MultiNode submission into one job definition per device.

A secondary-connection role (``connection: ssh``, ``host_role``) has no device: its sub-jobs log in
to the board of their host role, whose worker runs them (a "dynamic connection"). Its sub-jobs
carry ``connection`` and ``host_role`` at the top, as the reference writes them, and no device type.
"""

import copy
import uuid
from dataclasses import dataclass
from typing import Any

# keys of a role that describe the device it needs rather than the job it runs
ROLE_DEVICE_KEYS = ("device_type", "count", "tags", "context", "environment", "device", "worker")
# keys of a secondary-connection role that its sub-jobs carry at the top of their definition
CONNECTION_KEYS = ("connection", "host_role")


@dataclass
class SubJob:
    role: str
    definition: dict[str, Any]
    device_type: str | None  # None: a dynamic connection, on its host role's device
    tags: list[str]
    device: str | None
    worker: str | None

    @property
    def dynamic_connection(self) -> bool:
        return self.device_type is None


def host_role_errors(roles: dict[str, dict[str, Any]]) -> list[str]:
    """A secondary connection needs one board to log in to: its host role has a device and count 1."""
    errors = []
    for name, role in roles.items():
        host = role.get("host_role")
        if "connection" not in role or host not in roles:
            continue
        where = f"protocols.lava-multinode.roles.{name}.host_role"
        if "connection" in roles[host]:
            errors.append(f"{where}: the host role '{host}' is a connection itself, not a device")
        elif int(roles[host].get("count", 1)) != 1:
            errors.append(f"{where}: the host role '{host}' must have count: 1 (it has {roles[host].get('count')})")
    return errors


def split_multinode(data: dict[str, Any]) -> list[SubJob]:
    """One SubJob per device of every role (and per connection of a secondary-connection role), in
    role order then count order."""
    protocol = data["protocols"]["lava-multinode"]
    roles: dict[str, dict[str, Any]] = protocol["roles"]
    group_size = sum(int(role.get("count", 1)) for role in roles.values())
    target_group = str(uuid.uuid4())
    sub_jobs = []
    for role_name, role in roles.items():
        dynamic = "connection" in role
        for _ in range(int(role.get("count", 1))):
            definition = {key: copy.deepcopy(value) for key, value in data.items() if key != "actions"}
            multinode = definition["protocols"]["lava-multinode"]
            del multinode["roles"]
            multinode.update({"target_group": target_group, "role": role_name, "group_size": group_size})
            for key in ("device_type", "context", "environment", "tags"):
                if key in role and not (dynamic and key == "device_type"):
                    definition[key] = copy.deepcopy(role[key])
            if dynamic:
                definition.update({key: role[key] for key in CONNECTION_KEYS if key in role})
            for key in ("essential", "timeout", "expect_role", "request"):
                if key in role:
                    multinode[key] = copy.deepcopy(role[key])
            definition["actions"] = _actions_for_role(data.get("actions", []), role_name)
            sub_jobs.append(
                SubJob(
                    role=role_name,
                    definition=definition,
                    device_type=None if dynamic else role.get("device_type"),
                    tags=list(role.get("tags", [])),
                    device=role.get("device"),
                    worker=role.get("worker"),
                )
            )
    return sub_jobs


def _actions_for_role(actions: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    kept = []
    for action in actions:
        (kind, params), = action.items()
        roles = params.get("role", [])
        if isinstance(roles, str):
            roles = [roles]
        if role in roles:
            params = {key: copy.deepcopy(value) for key, value in params.items() if key != "role"}
            kept.append({kind: params})
    return kept
