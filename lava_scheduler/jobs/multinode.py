"""Splitting a MultiNode submission into one job definition per device."""

import copy
import uuid
from dataclasses import dataclass
from typing import Any

# keys of a role that describe the device it needs rather than the job it runs
ROLE_DEVICE_KEYS = ("device_type", "count", "tags", "context", "environment", "device", "worker")


@dataclass
class SubJob:
    role: str
    definition: dict[str, Any]
    device_type: str | None
    tags: list[str]
    device: str | None
    worker: str | None


def split_multinode(data: dict[str, Any]) -> list[SubJob]:
    """One SubJob per device of every role, in role order then count order."""
    protocol = data["protocols"]["lava-multinode"]
    roles: dict[str, dict[str, Any]] = protocol["roles"]
    group_size = sum(int(role.get("count", 1)) for role in roles.values())
    target_group = str(uuid.uuid4())
    sub_jobs = []
    for role_name, role in roles.items():
        for _ in range(int(role.get("count", 1))):
            definition = {key: copy.deepcopy(value) for key, value in data.items() if key != "actions"}
            multinode = definition["protocols"]["lava-multinode"]
            del multinode["roles"]
            multinode.update({"target_group": target_group, "role": role_name, "group_size": group_size})
            for key in ("device_type", "context", "environment", "tags"):
                if key in role:
                    definition[key] = copy.deepcopy(role[key])
            for key in ("essential", "timeout", "expect_role", "request"):
                if key in role:
                    multinode[key] = copy.deepcopy(role[key])
            definition["actions"] = _actions_for_role(data.get("actions", []), role_name)
            sub_jobs.append(
                SubJob(
                    role=role_name,
                    definition=definition,
                    device_type=role.get("device_type"),
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
