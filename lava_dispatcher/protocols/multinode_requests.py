"""MultiNode requests of one action: ``protocols: lava-multinode:`` inside a deploy, boot or test block.

    - boot:
        method: qemu
        protocols:
          lava-multinode:
          - action: execute-qemu      # which step of the action the request belongs to (informative)
            request: lava-wait        # lava-send, lava-wait, lava-wait-all or lava-sync
            messageID: test
            message:
              ipv4: $IPV4             # lava-wait: $IPV4 takes the value of "ipv4" in the reply
            timeout: {minutes: 5}     # default: the group's MultiNode timeout

The requests run in their order before the action starts, within its timeout: a board can wait
for its server to be ready before it even powers on. ``lava-send`` sends ``message`` as its
key=value data; a wait's ``$NAME`` values are filled from the reply and kept for the later
actions (``MultinodeProtocol.received``); ``lava-wait-all`` takes ``role`` to wait for one role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lava_common.records import field, record
from lava_common.timeouts import timeout_seconds

PROTOCOL = "lava-multinode"
# request name in the job -> the coordinator's API (and the console signal's name)
APIS = {"lava-send": "SEND", "lava-wait": "WAIT", "lava-wait-all": "WAIT_ALL", "lava-sync": "SYNC"}
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")
_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


@record(frozen=True)
class ActionRequest:
    api: str  # SEND, WAIT, WAIT_ALL, SYNC
    message_id: str
    message: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None  # None: the group's MultiNode timeout
    role: str | None = None  # lava-wait-all: only this role's members
    step: str = ""  # the reference's "action" key: the step it names

    @property
    def host_variable(self) -> str | None:
        """The first ``$NAME`` a wait fills: where a secondary connection finds its host's address."""
        return next(iter(self.variables()), None) if self.api in ("WAIT", "WAIT_ALL") else None

    def variables(self) -> dict[str, str]:
        """``{"IPV4": "ipv4"}`` for ``message: {ipv4: $IPV4}``: what a wait's reply fills in."""
        return {m.group(1): key for key, value in self.message.items() if (m := _VARIABLE.match(value))}


def action_requests(parameters: Mapping[str, Any], where: str) -> tuple[list[ActionRequest], list[str]]:
    """The requests of one action block and the errors found in them (field path and reason)."""
    block = parameters.get("protocols")
    items = block.get(PROTOCOL) if isinstance(block, dict) else None
    if items is None:
        return [], []
    where = f"{where}.protocols.{PROTOCOL}"
    if isinstance(items, dict) and "api" in items:
        items = [_legacy_request(items)]
    if not isinstance(items, list):
        return [], [f"{where}: must be a list of requests"]
    requests, errors = [], []
    for index, item in enumerate(items):
        request, problems = _one_request(item, f"{where}[{index}]")
        errors += problems
        if request is not None:
            requests.append(request)
    return requests, errors


def _legacy_request(item: dict[str, Any]) -> dict[str, Any]:
    """The reference's older single-request form, ``{api: lava-wait, id: ipv4, key: ipaddr, timeout}``,
    as a request of the list form: a wait for ``id`` whose ``key`` fills ``$key`` (``ip-addr`` fills
    ``$ip_addr``); a bad key is refused with the others' errors."""
    converted = {"request": item.get("api"), "messageID": item.get("id")}
    key = item.get("key")
    if key is not None:
        converted["message"] = {str(key): "$" + re.sub(r"\W", "_", str(key))}
    if "timeout" in item:
        converted["timeout"] = item["timeout"]
    return converted


def _one_request(item: Any, where: str) -> tuple[ActionRequest | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"{where}: must be a mapping with request and messageID"]
    errors = []
    api = APIS.get(item.get("request"))  # type: ignore[arg-type]
    if api is None:
        errors.append(f"{where}.request: {item.get('request')!r} is not one of {', '.join(APIS)}")
    message_id = item.get("messageID")
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        errors.append(f"{where}.messageID: required, letters, digits, _ . - only")
    message = item.get("message") or {}
    if not isinstance(message, dict):
        errors.append(f"{where}.message: must be a mapping of key: value")
        message = {}
    for key, value in message.items():
        if not isinstance(key, str) or not _KEY.match(key):
            errors.append(f"{where}.message: key {key!r} must be letters, digits, _ . - only")
        if isinstance(value, dict | list) or any(c.isspace() for c in str(value)):
            errors.append(f"{where}.message.{key}: must be one word (no spaces)")
    timeout = item.get("timeout")
    seconds = None
    if timeout is not None:
        try:
            seconds = float(timeout_seconds(timeout)) if isinstance(timeout, dict) else None
        except (TypeError, ValueError):
            seconds = None
        if not seconds:
            errors.append(f"{where}.timeout: must be a mapping such as {{minutes: 5}}")
    role = item.get("role")
    if role is not None and (api != "WAIT_ALL" or not isinstance(role, str)):
        errors.append(f"{where}.role: only for lava-wait-all, a role name")
    if errors:
        return None, errors
    data = {str(k): "" if v is None else str(v) for k, v in message.items()}
    return ActionRequest(api, message_id, data, seconds, role, str(item.get("action") or "")), []


def job_action_requests(job: Mapping[str, Any]) -> list[str]:
    """Errors in every action's requests: a sub-job with a bad request is refused before it runs."""
    errors = []
    for index, item in enumerate(job.get("actions") or []):
        if isinstance(item, dict):
            for section, block in item.items():
                if isinstance(block, dict):
                    errors += action_requests(block, f"actions[{index}].{section}")[1]
    return errors
