"""POST /RPC2 in WSGI (``XmlRpcFastPath``) answers byte for byte as Django's handler does.

Each request is sent, as gunicorn would hand it over, both to the fast path
(whose fallback is made to fail, so an answer proves it came from the fast
path) and to Django's own application; status, headers and body must match.
The database is committed (``transaction=True``): the fast path sends
``request_started``/``request_finished``, which recycle connections.
"""

import io
import xmlrpc.client
from collections.abc import Callable

import pytest
from django.core import signals

from lava_server import wsgi
from lava_server.accounts.models import AuthToken
from lava_server.xmlrpc import wsgi as fast_path
from lava_server.xmlrpc.marshal import parse_call
from lava_server.xmlrpc.wsgi import XmlRpcFastPath
from tests.server.test_xmlrpc import Lab, basic

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lab(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    return Lab(device)


def environ(body: bytes, authorization: str | None = None, **extra) -> dict:
    env = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/RPC2", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000", "CONTENT_TYPE": "text/xml", "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    if authorization:
        env["HTTP_AUTHORIZATION"] = authorization
    env.update(extra)
    return env


def serve(app: Callable, env: dict) -> tuple[str, dict[str, str], bytes]:
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    chunks = app(env, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return answer["status"], answer["headers"], body


def no_fallback(environ, start_response):
    raise AssertionError(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} left the fast path")


def fast_only() -> XmlRpcFastPath:
    return XmlRpcFastPath(no_fallback)


def both(body: bytes, authorization: str | None = None, **extra) -> tuple[str, dict[str, str], bytes]:
    """The fast path's answer, after checking that Django's handler gives the same."""
    fast = serve(fast_only(), environ(body, authorization, **extra))
    slow = serve(wsgi._django, environ(body, authorization, **extra))
    assert fast == slow
    return fast


def call(name: str, *params) -> bytes:
    return xmlrpc.client.dumps(params, name, allow_none=True).encode()


def result(body: bytes):
    return xmlrpc.client.loads(body)[0][0]


def test_answers_match_djangos_with_security_headers_and_length(lab):
    status, headers, body = both(call("system.whoami"), basic("alice", lab.tokens["alice"]))
    assert status == "200 OK" and result(body) == "alice"
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in headers
    assert result(both(call("system.whoami"))[2]) is None  # anonymous


def test_a_wrong_token_is_refused_with_the_same_401(lab):
    status, headers, body = both(call("system.version"), basic("alice", "wrong"))
    assert status == "401 Unauthorized" and headers["WWW-Authenticate"] == 'Basic realm="LAVA XML-RPC"'
    assert body == b"invalid username or token for 'alice'\n"
    # another user's token under alice's name is wrong too
    assert both(call("system.version"), basic("alice", lab.tokens["bob"]))[0] == "401 Unauthorized"
    assert both(call("system.version"), "Token not-a-token")[0] == "401 Unauthorized"
    assert both(call("system.version"), "Bearer x")[0] == "400 Bad Request"


def test_a_revoked_token_or_deactivated_user_is_refused_at_once(lab):
    app, auth = fast_only(), basic("alice", lab.tokens["alice"])
    assert result(serve(app, environ(call("system.whoami"), auth))[2]) == "alice"  # remembered now
    AuthToken.objects.filter(user__username="alice").delete()
    assert serve(app, environ(call("system.whoami"), auth))[0] == "401 Unauthorized"
    auth = basic("bob", lab.tokens["bob"])
    assert result(serve(app, environ(call("system.whoami"), auth))[2]) == "bob"
    lab.bob.is_active = False
    lab.bob.save()
    assert serve(app, environ(call("system.whoami"), auth))[0] == "401 Unauthorized"


def test_faults_and_the_visibility_rule_are_unchanged(lab):
    bob = basic("bob", lab.tokens["bob"])
    for body, code in (
        (call("no.such.method"), 404),
        (b"<not xml", 400),
        (call("scheduler.jobs.show", str(lab.private.pk)), 404),  # alice's private job, to bob
        (call("scheduler.jobs.submit", "not: [a job"), 400),
        (call("scheduler.jobs.show"), 400),  # a parameter missing
    ):
        status, _, answer = both(body, bob)
        assert status == "200 OK"
        with pytest.raises(xmlrpc.client.Fault) as info:
            result(answer)
        assert info.value.faultCode == code, body
    assert result(both(call("scheduler.jobs.show", str(lab.public.pk)), bob)[2])["description"] == "public job"


def test_login_required_refuses_anonymous_callers_alike(lab, settings):
    settings.LAVA = {**settings.LAVA, "LOGIN_REQUIRED": True}
    _, _, body = both(call("system.version"))
    with pytest.raises(xmlrpc.client.Fault) as info:
        result(body)
    assert info.value.faultCode == 401


def test_what_the_fast_path_does_not_cover_goes_to_django(lab, settings):
    settings.ALLOWED_HOSTS = ["lab.example"]
    seen = []

    def django(environ, start_response):
        seen.append(environ.get("HTTP_HOST"))
        return wsgi._django(environ, start_response)

    app = XmlRpcFastPath(django)
    body = call("system.version")
    assert serve(app, environ(body, HTTP_HOST="evil.example"))[0].startswith("400")  # Django's DisallowedHost
    assert serve(app, environ(body, REQUEST_METHOD="GET", HTTP_HOST="lab.example"))[0].startswith("405")
    assert serve(app, environ(body, PATH_INFO="/api/v0.2/", HTTP_HOST="lab.example"))[0].startswith("405")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body) - 1
    assert serve(app, environ(body, HTTP_HOST="lab.example"))[0].startswith("400")  # RequestDataTooBig
    assert len(seen) == 4
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    assert serve(app, environ(body, HTTP_HOST="lab.example"))[0] == "200 OK" and len(seen) == 4
    settings.SECURE_SSL_REDIRECT = True  # the skipped SecurityMiddleware would redirect: Django answers
    serve(app, environ(body, HTTP_HOST="lab.example"))
    assert len(seen) == 5


def test_an_unexpected_error_is_answered_and_logged_as_django_does(lab, monkeypatch, caplog):
    def broken(authorization, body):
        raise RuntimeError("database gone")

    monkeypatch.setattr(fast_path, "answer_post", broken)
    status, headers, body = serve(fast_only(), environ(call("system.version")))
    assert status == "500 Internal Server Error" and b"Server Error (500)" in body
    assert headers["X-Frame-Options"] == "DENY" and headers["Content-Length"] == str(len(body))
    assert "database gone" in caplog.text


def test_request_finished_is_sent_once_the_answer_is_closed(lab):
    finished = []

    def receiver(sender, **_):
        finished.append(sender)

    signals.request_finished.connect(receiver, weak=False, dispatch_uid="test-finished-on-close")
    try:
        chunks = fast_only()(environ(call("system.version")), lambda status, headers, exc_info=None: None)
        assert b"".join(chunks) and finished == []  # the answer is sent before the request ends
        chunks.close()
        assert finished == [XmlRpcFastPath]
    finally:
        signals.request_finished.disconnect(dispatch_uid="test-finished-on-close")


HOSTILE_CALLS = [
    b"", b"<", b"<not xml", b"<methodCall>", b"<a><b></a>", b"\xff\xfe<methodCall/>",
    b"<?xml version='1.0'?><methodCall><params/></methodCall>",
    b"<methodCall><methodName>x</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
    b"<methodCall><methodName>x</methodName><params><param><value><double>1e</double></value></param></params>"
    b"</methodCall>",
    b"<methodCall><methodName>x</methodName><params><param><value><string>a\nb&amp;c</string></value></param>"
    b"<param><value>plain\n text</value></param><param><value><struct><member><name>k</name><value><i4>3</i4>"
    b"</value></member></struct></value></param></params></methodCall>",
    b"<!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><methodCall><methodName>&b;</methodName></methodCall>",
    call("scheduler.jobs.validate", "device_type: qemu\n" * 3, False),
]


@pytest.mark.parametrize("body", HOSTILE_CALLS)
def test_calls_are_parsed_as_xmlrpc_client_parses_them(body):
    def outcome(parse):
        try:
            return parse(body)
        except Exception as exc:
            return type(exc), str(exc)

    assert outcome(parse_call) == outcome(lambda data: xmlrpc.client.loads(data, use_builtin_types=False))
