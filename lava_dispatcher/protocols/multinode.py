"""The ``lava-multinode`` protocol: this job's place in its group, and the coordinator calls for it.

The server splits a MultiNode submission into sub-jobs and writes into each one
``protocols.lava-multinode``: ``target_group``, ``role``, ``roles`` (job id -> role, every member),
``group_size``, ``sub_id``, and from the role ``timeout``, ``essential``, ``request``/``expect_role``.

    settings = MultinodeSettings.from_job(job)          # None for a single-node job; JobError if bad
    protocol = MultinodeProtocol(settings, job_id, client, log=logger.info)
    protocol.initialise()         # register, wait for the whole group (and for lava_start if asked)
    call = parse_signal(line)     # "<LAVA_MULTI_NODE> <LAVA_WAIT ready>" -> MultinodeCall
    console.sendline(protocol.serve(call))   # "<LAVA_WAIT_COMPLETE 12:ip=10.0.0.1>"
    protocol.finalise()           # leave the group: whoever still waits for us fails at once

lava-run does this through group_protocol() (the job, which keeps it in ``ctx.multinode``) and
ctx.multinode.serve() (the test shell). What validation needs (the settings, the signals' grammar)
is in ``multinode_job``, which loads nothing of the coordinator.

Coordinator errors become MultinodeProtocolTimeoutError (no answer in time, with who was missing)
or TestError (the coordinator refused the call, with its reason).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.constants import LAVA_MULTINODE_SYSTEM_TIMEOUT
from lava_common.coordinator.client import CoordinatorClient, CoordinatorRefused, CoordinatorTimeout
from lava_common.coordinator.config import DEFAULT_PATH, ConfigError, load_config
from lava_common.exceptions import ConfigurationError, JobError, MultinodeProtocolTimeoutError, TestError
from lava_dispatcher.protocols.multinode_job import WHERE, MultinodeCall, MultinodeSettings
from lava_dispatcher.protocols.multinode_network import GroupNetwork
from lava_dispatcher.protocols.multinode_requests import (
    MESSAGE_ID,
    ActionRequest,
    action_requests,
)

if TYPE_CHECKING:
    from lava_dispatcher.logger import JobLogger

START_MESSAGE = "lava_start"
_REQUESTS = {"SEND": "lava_send", "WAIT": "lava_wait", "WAIT_ALL": "lava_wait_all", "SYNC": "lava_sync"}


def group_protocol(settings: MultinodeSettings, job_id: str, coordinator_config: str | None,
                   logger: JobLogger) -> MultinodeProtocol:
    """This sub-job's protocol, to ``initialise()``: the coordinator is the one lava-coordinator.conf
    names; dispatcher.yaml's ``coordinator_config`` points at another copy of that file (tests,
    several labs on one worker)."""
    client = client_from_config(Path(coordinator_config) if coordinator_config else None)
    return MultinodeProtocol(settings, job_id, client, log=logger.info, record=logger.results)


def client_from_config(path: Path | None) -> CoordinatorClient:
    """The coordinator named by lava-coordinator.conf (the worker's copy), as the reference reads it."""
    try:
        config = load_config(path or DEFAULT_PATH)
    except ConfigError as exc:
        raise ConfigurationError(f"MultiNode coordinator: {exc}") from None
    return CoordinatorClient(config.coordinator_hostname, config.port, config.blocksize, config.poll_delay)


class MultinodeProtocol:
    def __init__(
        self,
        settings: MultinodeSettings,
        job_id: str,
        client: CoordinatorClient,
        log: Callable[[str], None] = lambda message: None,
        record: Callable[[dict[str, Any]], None] = lambda result: None,
    ) -> None:
        self.settings = settings
        self.job_id = job_id
        self.client = client
        self.log = log
        self.record = record
        self.joined = False
        # $NAME -> value, filled by the waits of action-level requests (multinode_requests)
        self.received: dict[str, str] = {}
        self.network = (GroupNetwork.for_member(settings.target_group, settings.roles, job_id)
                        if settings.network and job_id in settings.roles else None)

    def _request(self, request: str, **fields: Any) -> dict[str, Any]:
        return {
            "request": request, "client_name": self.job_id, "group_name": self.settings.target_group,
            "group_size": self.settings.group_size, "role": self.settings.role, "hostname": socket.gethostname(),
            **fields,
        }

    def _call(self, request: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        try:
            return self.client.call(request, timeout, what)
        except CoordinatorTimeout as exc:
            raise MultinodeProtocolTimeoutError(f"MultiNode {exc}") from None
        except CoordinatorRefused as exc:
            raise TestError(f"MultiNode {exc}") from None

    def initialise(self) -> None:
        """Register with the coordinator and wait until every member of the group has."""
        if self.job_id not in self.settings.roles:
            raise JobError(f"{WHERE}.roles: this job ({self.job_id}) is not one of the group's members")
        self.log(f"MultiNode: joining group {self.settings.target_group} as {self.settings.role} "
                 f"({self.settings.group_size} members) at {self.client.host}:{self.client.port}")
        self.joined = True
        reply = self._call(self._request("group_data"), LAVA_MULTINODE_SYSTEM_TIMEOUT, "joining the group")
        roles = reply.get("roles")
        if isinstance(roles, dict) and {str(k): v for k, v in roles.items()} != dict(self.settings.roles):
            raise JobError(f"MultiNode: the coordinator's group {roles} is not the job's roles {dict(self.settings.roles)}")
        self.log("MultiNode: the whole group is there")
        if self.settings.expect_role:
            self.log(f"MultiNode: waiting for role {self.settings.expect_role} to send {START_MESSAGE}")
            self._call(self._request("lava_wait_all", messageID=START_MESSAGE, waitrole=self.settings.expect_role),
                       self.settings.timeout, f"waiting for {START_MESSAGE} from {self.settings.expect_role}")

    def serve(self, call: MultinodeCall) -> str:
        """Do what a helper on the board asked; return the line to type back on the console."""
        api = call.api
        helper = _helper_name(api, call.message_id)
        if not MESSAGE_ID.match(call.message_id):
            raise TestError(f"{helper}: the message id must be letters, digits, _ . - only")
        message: dict[str, str] = {}
        role = None
        if api == "SEND":
            for pair in call.arguments:
                key, sep, value = pair.partition("=")
                if not sep or not key:
                    raise TestError(f"{helper}: '{pair}' is not key=value")
                message[key] = value
        elif api == "WAIT_ALL" and call.arguments:
            role = call.arguments[0]
        reply = self.call_api(api, call.message_id, message, role, self.settings.timeout, "test shell")
        return f"<LAVA_{api}_COMPLETE{format_message(reply.get('message')) if api != 'SEND' else ''}>"

    def before_action(self, action: str, parameters: Mapping[str, Any], where: str) -> None:
        """Run the action block's own requests (multinode_requests), in order."""
        requests, errors = action_requests(parameters, where)
        if errors:  # refused at validation already: only a definition changed since could get here
            raise JobError("; ".join(errors))
        for request in requests:
            self.run_action_request(request, action)

    def run_action_request(self, request: ActionRequest, action: str) -> None:
        timeout = request.timeout or self.settings.timeout
        message = {} if request.api != "SEND" else dict(request.message)
        reply = self.call_api(request.api, request.message_id, message, request.role, timeout,
                              request.step or action)
        data = reply.get("message")
        for variable, key in request.variables().items():
            values = [sent[key] for sent in data.values() if isinstance(sent, dict) and key in sent] \
                if isinstance(data, dict) else []
            if values:
                self.received[variable] = str(values[0])
                self.log(f"MultiNode: ${variable} = {values[0]}")
            else:
                self.log(f"MultiNode: the reply to {_helper_name(request.api, request.message_id)} has no "
                         f"'{key}' for ${variable}")

    def call_api(self, api: str, message_id: str, message: dict[str, str], role: str | None, timeout: float,
                 origin: str) -> dict[str, Any]:
        """One MultiNode call, recorded as a result of the ``lava`` suite (the group's page lists them)."""
        helper = _helper_name(api, message_id)
        case = f"multinode-{api.lower().replace('_', '-')}-{message_id}"
        fields: dict[str, Any] = {"messageID": message_id}
        if api == "SEND":
            fields["message"] = message
        if role:
            fields["waitrole"] = role
        words = " ".join([*(f"{k}={v}" for k, v in message.items()), *([role] if role else [])])
        self.log(f"MultiNode: {helper} {words}".rstrip())
        extra = {"role": self.settings.role, "message_id": message_id, "origin": origin,
                 **({"data": message} if api == "SEND" else {}), **({"waitrole": role} if role else {})}
        try:
            reply = self._call(self._request(_REQUESTS[api], **fields), timeout, helper)
        except (MultinodeProtocolTimeoutError, TestError) as exc:
            self.record({"definition": "lava", "case": case, "result": "fail",
                         "extra": {**extra, "error": str(exc)}})
            raise
        if api != "SEND" and isinstance(reply.get("message"), dict):
            extra["received"] = reply["message"]
        self.record({"definition": "lava", "case": case, "result": "pass", "extra": extra})
        return reply

    def finalise(self) -> None:
        """Leave the group; best effort, the job's result does not depend on it."""
        if not self.joined:
            return
        self.joined = False
        try:
            self.client.call(self._request("clear_group"), 10, "leaving the group")
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the job is over anyway
            self.log(f"MultiNode: could not tell the coordinator this job left: {exc}")


def _helper_name(api: str, message_id: str) -> str:
    """``lava-wait-all done``: the helper's name, as the board would call it."""
    return f"lava-{api.lower().replace('_', '-')} {message_id}".rstrip()


def format_message(message: Any) -> str:
    """``{"12": {"ip": "10.0.0.1"}}`` -> ``" 12:ip=10.0.0.1"``: the reference's reply words."""
    if not isinstance(message, dict):
        return ""
    words = []
    for sender, data in message.items():
        if isinstance(data, dict):
            words += [f" {sender}:{key}={value}" for key, value in data.items()]
    return "".join(words)
