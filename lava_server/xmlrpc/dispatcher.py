"""The /RPC2 endpoint: parse the call, authenticate, run the method, marshal the answer.

Application errors are faults inside an HTTP 200 (lavacli retries HTTP 5xx
for seconds); only a malformed ``Authorization`` header (400) and wrong
credentials (401) are HTTP errors, as the reference's.
"""

import logging
import xml.parsers.expat
import xmlrpc.client
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from lava_server.auth import AuthenticationFailed, user_from_authorization
from lava_server.login_gate import REFUSAL, refuses
from lava_server.xmlrpc.marshal import method_response, parse_call
from lava_server.xmlrpc.registry import METHODS, Context, fault, method

logger = logging.getLogger("lava_server.xmlrpc")

CONTENT_TYPE = "text/xml; charset=utf-8"
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def _load_methods() -> None:
    # each module registers its methods when imported
    from lava_server.xmlrpc import (  # noqa: F401
        auth,
        capabilities,
        remote_artifact_tokens,
        results,
        results_queries,
        scheduler_device_types,
        scheduler_devices,
        scheduler_jobs,
        scheduler_lab,
        scheduler_legacy,
        scheduler_perms,
        scheduler_worker_certificates,
        scheduler_workers,
        system,
    )


def call(ctx: Context, name: str, params: tuple[Any, ...]) -> Any:
    """Run one method; every failure comes out as a Fault."""
    entry = METHODS.get(name)
    if entry is None:
        raise fault(404, f"Unknown method '{name}' (system.listMethods lists them)")
    try:
        entry.signature.bind(*params)
    except TypeError as exc:
        raise fault(400, f"{name}{entry.signature}: {exc}") from None
    try:
        return entry.function(ctx, *params)
    except xmlrpc.client.Fault:
        raise
    except ObjectDoesNotExist as exc:
        raise fault(404, str(exc)) from None
    except ValidationError as exc:
        raise fault(400, "; ".join(exc.messages)) from None
    except DatabaseError as exc:
        logger.exception("database error in %s", name)
        raise fault(500, f"database error: {exc}") from None
    except Exception as exc:
        logger.exception("error in %s", name)
        raise fault(500, f"internal error in {name}: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class Answer:
    """What /RPC2 answers to one POST, whichever way it came in (Django's view or the WSGI fast path)."""

    status: int
    body: bytes
    content_type: str = CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def _xml_answer(body: str) -> Answer:
    return Answer(200, body.encode("utf-8", errors="xmlcharrefreplace"))


def _fault_answer(exc: xmlrpc.client.Fault) -> Answer:
    return _xml_answer(xmlrpc.client.dumps(exc, methodresponse=True, allow_none=True))


def answer_post(authorization: str | None, body: bytes) -> Answer:
    """Authenticate, parse the call, run it: the answer to a POST on /RPC2."""
    try:
        user = user_from_authorization(authorization)
    except AuthenticationFailed as exc:
        challenge = (("WWW-Authenticate", 'Basic realm="LAVA XML-RPC"'),) if exc.status == 401 else ()
        return Answer(exc.status, (exc.message + "\n").encode(), "text/plain", challenge)
    if refuses(user):
        return _fault_answer(fault(401, REFUSAL))
    if len(body) > MAX_REQUEST_BYTES:
        return _fault_answer(fault(400, f"request larger than {MAX_REQUEST_BYTES} bytes"))
    try:
        params, name = parse_call(body)
    except (xml.parsers.expat.ExpatError, ValueError, TypeError) as exc:
        return _fault_answer(fault(400, f"malformed XML-RPC request: {exc}"))
    if not name:
        return _fault_answer(fault(400, "malformed XML-RPC request: no methodName"))
    try:
        return _xml_answer(method_response(call(Context(user), name, params)))
    except xmlrpc.client.Fault as exc:
        return _fault_answer(exc)


@csrf_exempt
def rpc_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = HttpResponse(
            "This is the XML-RPC endpoint: POST XML-RPC calls here (lavacli, xmlrpc.client.ServerProxy).\n",
            status=405,
            content_type="text/plain",
        )
        response["Allow"] = "POST"
        return response
    answer = answer_post(request.headers.get("Authorization"), request.body)
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response[name] = value
    return response


# introspection


@method("system.listMethods")
def list_methods(ctx: Context) -> list[str]:
    """The names of every method of this server."""
    return sorted(METHODS)


@method("system.methodHelp")
def method_help(ctx: Context, name: str) -> str:
    """The documentation of method ``name``."""
    if name not in METHODS:
        raise fault(404, f"Unknown method '{name}'")
    return METHODS[name].help


@method("system.methodSignature")
def method_signature(ctx: Context, name: str) -> list[list[str]]:
    """Parameter lists of ``name``: types are not declared, so each is 'undef' (first item: the result)."""
    if name not in METHODS:
        raise fault(404, f"Unknown method '{name}'")
    params = METHODS[name].signature.parameters.values()
    required = [p for p in params if p.default is p.empty]
    return [["undef"] * (1 + n) for n in range(len(required), len(params) + 1)]


@method("system.multicall")
def multicall(ctx: Context, calls: list[dict[str, Any]]) -> list[Any]:
    """Run several calls: each result is wrapped in a one-item list, each fault is a struct."""
    results: list[Any] = []
    for item in calls:
        if not isinstance(item, dict) or "methodName" not in item:
            results.append({"faultCode": 400, "faultString": "each call needs methodName and params"})
            continue
        if item["methodName"] == "system.multicall":
            results.append({"faultCode": 400, "faultString": "system.multicall cannot be nested"})
            continue
        try:
            results.append([call(ctx, item["methodName"], tuple(item.get("params", ())))])
        except xmlrpc.client.Fault as exc:
            results.append({"faultCode": exc.faultCode, "faultString": exc.faultString})
    return results


_load_methods()
