"""The coordinator's group state: requests in, replies out, no I/O.

    broker = Broker()
    broker.handle({"request": "group_data", "client_name": "12", "group_name": "uuid",
                   "group_size": 2, "role": "server", "hostname": "worker1"})
    -> {"response": "wait", ...} until both members registered, then
       {"response": "group_data", "roles": {"12": "server", "13": "client"}}

Replies are ``ack`` (with ``message`` = ``{sender: {key: value}}`` for the waits, the id for a sync),
``wait`` (poll again; ``waiting_for`` names the members still missing, as "<id> (<role>)", so that a client timing out
can say who never came) or ``nack`` (``error`` says why). Any request carrying ``group_size``
registers its sender, as the reference does.

As in the reference's daemon, every member's ``lava_send`` counts for every waiter, the waiter
itself included (a ``lava_wait_all`` over the whole group needs the waiter's own send too), and a
message stays until the group ends: waiting again for the same id returns at once, with the
latest data of each sender. A ``lava_sync`` round ends when every member has been released, so
the same id can be used again. A member that sends ``complete`` or ``clear_group`` has left: whoever waits for
it gets a ``nack`` at once instead of waiting for their timeout. The group is forgotten when its
last member has left, or after ``expiry`` seconds without a request (jobs killed without a word).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger("lava-coordinator")
DEFAULT_EXPIRY = 24 * 3600.0
API_REQUESTS = ("lava_send", "lava_wait", "lava_wait_all", "lava_sync")
REQUESTS = ("group_data", "clear_group", "complete", "aggregate", *API_REQUESTS)


class RequestError(Exception):
    """The request is malformed or not allowed: the reply is a nack with this text."""


@dataclass
class Member:
    name: str
    role: str
    hostname: str
    left: bool = False


@dataclass
class SyncRound:
    arrived: set[str] = field(default_factory=set)
    released: set[str] = field(default_factory=set)


@dataclass
class Group:
    name: str
    size: int
    members: dict[str, Member] = field(default_factory=dict)
    # message id -> sender -> data
    sent: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    syncs: dict[str, SyncRound] = field(default_factory=dict)
    last_request: float = 0.0

    @property
    def complete(self) -> bool:
        return len(self.members) >= self.size

    def label(self, name: str) -> str:
        member = self.members.get(name)
        return f"{name} ({member.role})" if member else name


def _text(request: dict[str, Any], key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise RequestError(f"'{key}': required, a non-empty string")
    return str(value)


def _message(request: dict[str, Any]) -> dict[str, str]:
    message = request.get("message")
    if message is None or message == "":
        return {}
    if not isinstance(message, dict):
        raise RequestError("'message': must be a mapping of key=value data")
    return {str(k): "" if v is None else str(v) for k, v in message.items()}


def _wait_reply(group: Group, waiting_for: list[str], what: str) -> dict[str, Any]:
    # job ids in numeric order when they are numbers, whatever order the members registered in
    names = sorted(waiting_for, key=lambda name: (len(name), name))
    return {"response": "wait", "waiting_for": [group.label(name) for name in names], "message": what}


class Broker:
    def __init__(self, clock: Callable[[], float] = time.monotonic, expiry: float = DEFAULT_EXPIRY) -> None:
        self.groups: dict[str, Group] = {}
        self._clock = clock
        self._expiry = expiry

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._handle(request)
        except RequestError as exc:
            LOG.warning("nack to %s: %s", request.get("client_name", "?"), exc)
            return {"response": "nack", "error": str(exc)}

    def _handle(self, request: dict[str, Any]) -> dict[str, Any]:
        self._expire()
        kind = request.get("request")
        if kind not in REQUESTS:
            raise RequestError(f"'request': unknown request {kind!r} (expected one of {', '.join(REQUESTS)})")
        group_name = _text(request, "group_name")
        client = _text(request, "client_name")
        group = self._group(group_name, client, request)
        group.last_request = self._clock()
        if kind == "aggregate":
            raise RequestError("'aggregate' is not supported: results go to the server by the job log")
        if kind in ("clear_group", "complete"):
            return self._leave(group, client)
        if kind == "group_data":
            if not group.complete:
                missing = group.size - len(group.members)
                return _wait_reply(group, [], f"{missing} of {group.size} members not registered yet")
            return {"response": "group_data", "roles": {name: m.role for name, m in group.members.items()}}
        message_id = _text(request, "messageID")
        if kind == "lava_send":
            return self._send(group, client, message_id, _message(request))
        if kind == "lava_sync":
            return self._sync(group, client, message_id)
        waitrole = request.get("waitrole")
        return self._wait(group, client, message_id, all_of=kind == "lava_wait_all", role=waitrole or None)

    # -- membership -----------------------------------------------------------------------------

    def _group(self, group_name: str, client: str, request: dict[str, Any]) -> Group:
        group = self.groups.get(group_name)
        size = request.get("group_size")
        if size is not None:
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise RequestError(f"'group_size': must be a positive integer, got {size!r}")
            if group is None:
                group = self.groups[group_name] = Group(group_name, size)
                LOG.info("group %s: created for %d members", group_name, size)
            elif group.size != size:
                raise RequestError(f"group {group_name} has {group.size} members, the request says {size}")
            if client not in group.members:
                if group.complete:
                    raise RequestError(f"group {group_name} already has its {group.size} members, {client} is one too many")
                role = _text(request, "role")
                group.members[client] = Member(client, role, str(request.get("hostname") or ""))
                LOG.info("group %s: %s registered as %s (%d/%d)", group_name, client, role,
                         len(group.members), group.size)
        if group is None:
            raise RequestError(f"group {group_name} is unknown: register with group_data and group_size first")
        if client not in group.members:
            raise RequestError(f"{client} is not a member of group {group_name}")
        return group

    def _leave(self, group: Group, client: str) -> dict[str, Any]:
        group.members[client].left = True
        LOG.info("group %s: %s has left", group.name, group.label(client))
        if all(member.left for member in group.members.values()) and group.complete:
            del self.groups[group.name]
            LOG.info("group %s: finished, forgotten", group.name)
        return {"response": "ack"}

    def _expire(self) -> None:
        now = self._clock()
        for name, group in list(self.groups.items()):
            if now - group.last_request > self._expiry:
                del self.groups[name]
                LOG.warning("group %s: no request for %d s, forgotten", name, self._expiry)

    # -- API calls ------------------------------------------------------------------------------

    def _send(self, group: Group, client: str, message_id: str, data: dict[str, str]) -> dict[str, Any]:
        group.sent.setdefault(message_id, {})[client] = data
        LOG.debug("group %s: %s sent %s %s", group.name, client, message_id, data)
        return {"response": "ack"}

    def _wait(
        self, group: Group, client: str, message_id: str, all_of: bool, role: Any
    ) -> dict[str, Any]:
        if role is not None and not isinstance(role, str):
            raise RequestError("'waitrole': must be a role name")
        if not group.complete:
            return _wait_reply(group, [], f"group has {len(group.members)} of {group.size} members")
        senders = [n for n, m in group.members.items() if role is None or m.role == role]
        if not senders:
            roles = sorted({m.role for m in group.members.values()})
            raise RequestError(f"'waitrole': no member has role '{role}' (roles: {', '.join(roles)})")
        sent = group.sent.get(message_id, {})
        received = {s: sent[s] for s in senders if s in sent}
        missing = [s for s in senders if s not in received]
        if received and (not missing or not all_of):
            return {"response": "ack", "message": received}
        # the waiter itself may be missing (wait-all over its own role): only others can leave
        others = [s for s in missing if s != client]
        gone = [s for s in others if group.members[s].left]
        if gone and (all_of or len(gone) == len(others)):
            names = ", ".join(group.label(s) for s in gone)
            raise RequestError(f"message '{message_id}' can never come: {names} left the group without sending it")
        return _wait_reply(group, missing, f"message '{message_id}'")

    def _sync(self, group: Group, client: str, message_id: str) -> dict[str, Any]:
        sync = group.syncs.setdefault(message_id, SyncRound())
        if client in sync.released:
            # released from this round already: this call opens the next one, once the round is over
            return _wait_reply(group, sorted(set(group.members) - sync.released), f"sync '{message_id}' previous round")
        sync.arrived.add(client)
        missing = [n for n in group.members if n not in sync.arrived] if group.complete else []
        if not group.complete or missing:
            gone = [n for n in missing if group.members[n].left]
            if gone:
                names = ", ".join(group.label(n) for n in gone)
                raise RequestError(f"sync '{message_id}' can never complete: {names} left the group")
            return _wait_reply(group, missing, f"sync '{message_id}'")
        sync.released.add(client)
        reply = {"response": "ack", "message": message_id}
        if sync.released >= set(group.members):
            del group.syncs[message_id]
        return reply
