"""The shortcuts of the API's hot paths answer as the long ways did, and never on stale rights.

/RPC2 skips the page middleware, a submission's rights are one fresh query,
verified tokens are remembered for a moment, ``jobs.logs`` escapes bytes:
each is checked here against what it replaced.
"""

import xmlrpc.client

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from lava_scheduler.jobs.lab_snapshot import lab_snapshot
from lava_scheduler.lab.models import Device
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.logs.store import OFFSET, LogStore, job_output_dir
from lava_scheduler.permissions.models import GroupDevicePermission, GroupDeviceTypePermission
from lava_scheduler.permissions.rules import _submit_open
from lava_server.accounts.models import AuthToken, hash_secret
from lava_server.auth import recent_tokens
from lava_server.xmlrpc.marshal import EscapedText, escape_bytes, method_response
from tests.server.test_xmlrpc import Lab, basic, fault_code, job_text, proxy

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(device, settings, tmp_path):
    settings.JOB_OUTPUT_DIR = tmp_path / "job-output"
    return Lab(device)


def rpc_post(body: bytes, **extra):
    return Client().post("/RPC2", body, content_type="text/xml", **extra)


# /RPC2 past the page middleware


def test_rpc_answers_carry_the_security_headers_and_a_length_but_no_session(lab):
    response = rpc_post(xmlrpc.client.dumps((), "system.version").encode(),
                        HTTP_AUTHORIZATION=basic("alice", lab.tokens["alice"]))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
    assert response["Content-Type"] == "text/xml; charset=utf-8"


def test_rpc_still_checks_the_host_header(lab, settings):
    settings.ALLOWED_HOSTS = ["lab.example"]
    body = xmlrpc.client.dumps((), "system.version").encode()
    assert rpc_post(body).status_code == 400  # the test client's "testserver"
    assert rpc_post(body, HTTP_HOST="lab.example").status_code == 200


def test_rpc_errors_are_answered_as_before(lab):
    response = Client().get("/RPC2/")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert response["X-Frame-Options"] == "DENY"
    assert rpc_post(b"", HTTP_AUTHORIZATION="Bearer x").status_code == 400
    assert rpc_post(b"<not xml").status_code == 200  # a fault, inside HTTP 200
    assert fault_code(lambda: proxy().no.such.method()) == 404


def test_pages_keep_their_middleware(lab):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert "csrftoken" in response.cookies  # CSRF still runs for pages
    assert response["X-Frame-Options"] == "DENY"


# marshalling


@pytest.mark.parametrize("result", [
    None, True, 3, 2.5, "plain & <odd> text", ["a", {"b": [1, None]}], {"x": xmlrpc.client.Binary(b"\x00\x01")},
])
def test_method_response_is_xmlrpc_clients_document(result):
    assert method_response(result) == xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)


def test_escaped_text_reads_back_as_the_text():
    text = 'line <1> & "two" ünïcode\n' * 3
    body = method_response([False, EscapedText(escape_bytes(text.encode()).decode())])
    assert xmlrpc.client.loads(body)[0][0] == [False, text]


def test_log_range_with_markup_and_bad_utf8_reads_as_before(lab):
    store = LogStore(job_output_dir(lab.public))
    store.append(['- {"msg": "a <b> & c"}', '- {"msg": "caf\u00e9"}'])
    with open(store.log_path, "ab") as log, open(store.index_path, "ab") as index:  # a writer that sent bad UTF-8
        index.write(OFFSET.pack(log.tell()))
        log.write(b'- {"msg": "bad \xff byte"}\n')
    _, data = lab.rpc("alice").scheduler.jobs.logs(str(lab.public.pk), 0, None)
    assert data == '- {"msg": "a <b> & c"}\n- {"msg": "caf\u00e9"}\n- {"msg": "bad \ufffd byte"}\n'


@pytest.mark.parametrize("raw, binary", [
    (b"plain\n", False),
    ("replaced \ufffd and fullwidth \uff21\n".encode(), False),  # EF BF BD, EF BC A1: XML carries them
    ("nonchar \ufffe\n".encode(), True),
    ("nonchar \uffff\n".encode(), True),
    (b"control \x1b[0m\n", True),
    (b"carriage \r return\n", True),
])
def test_a_log_range_xml_cannot_carry_comes_as_binary(lab, raw, binary):
    store = LogStore(job_output_dir(lab.public))
    store.append(["- first"])
    with open(store.log_path, "ab") as log, open(store.index_path, "ab") as index:
        index.write(OFFSET.pack(log.tell()))
        log.write(raw)
    _, data = lab.rpc("alice").scheduler.jobs.logs(str(lab.public.pk), 1, None)
    assert isinstance(data, xmlrpc.client.Binary) is binary
    assert (data.data if binary else data.encode()) == raw


def test_a_log_read_ends_at_the_last_indexed_line(lab):
    store = LogStore(job_output_dir(lab.public))
    store.append([f"- line {n}" for n in range(10_000)])
    with open(store.log_path, "ab") as log:  # an append in flight: written, not indexed yet
        log.write(b"- not indexed yet\n- half a li")
    assert store.read_bytes(9_998) == b"- line 9998\n- line 9999\n"
    assert store.read_bytes(0, 2) == b"- line 0\n- line 1\n"
    far_apart = store.read_bytes(5, 9_000)  # the index's two offsets read apart
    assert far_apart.startswith(b"- line 5\n") and far_apart.endswith(b"- line 8999\n")
    assert far_apart.count(b"\n") == 8_995
    _, data = lab.rpc("alice").scheduler.jobs.logs(str(lab.public.pk), -2, None)
    assert data == "- line 9998\n- line 9999\n"
    assert store.read_bytes(10_000) == b"" and LogStore(store.directory / "none").read_bytes() == b""


# a submission's rights: one query, never stale


def test_a_submission_in_an_open_lab_costs_two_queries(lab, django_assert_num_queries):
    lab_snapshot(fresh=True)
    alice = User.objects.get(username="alice")
    from lava_scheduler.jobs.submission import submit_job

    submit_job(job_text(), alice)  # the first one in a database session prepares the rights query
    with django_assert_num_queries(2):  # the rights, the INSERT
        submit_job(job_text(), alice)


@pytest.mark.django_db(transaction=True)  # a reconnection ends the test's transaction
def test_the_prepared_rights_query_survives_a_reconnection_and_can_be_turned_off(
    lab, settings, django_assert_num_queries
):
    from django.db import connection

    from lava_scheduler.permissions.rules import submit_refusal

    bob = User.objects.get(username="bob")
    assert submit_refusal(bob, "qemu", None, None) is None
    GroupDeviceTypePermission.objects.create(group=lab.team, device_type_id="qemu", permission="submit_to_devicetype")
    with django_assert_num_queries(1):  # EXECUTE: prepared by the first call
        assert not _submit_open(bob, "qemu", None, None)
    # another variant of the query (a device named) is prepared once too
    assert not _submit_open(bob, "qemu", "qemu-01", None) and not _submit_open(bob, "qemu", "qemu-01", None)
    connection.close()  # the session and its prepared statements are gone; the next cursor opens a new one
    assert not _submit_open(bob, "qemu", None, None)
    settings.PREPARED_STATEMENTS = False
    with django_assert_num_queries(1) as run:
        assert not _submit_open(bob, "qemu", None, None)
    assert not run.captured_queries[0]["sql"].startswith(("EXECUTE", "PREPARE"))


def test_a_new_restriction_applies_to_the_next_submission(lab, device):
    alice, bob = lab.rpc("alice"), lab.rpc("bob")
    assert isinstance(bob.scheduler.jobs.submit(job_text()), int)
    GroupDeviceTypePermission.objects.create(group=lab.team, device_type_id="qemu", permission="submit_to_devicetype")
    with pytest.raises(xmlrpc.client.Fault) as refused:
        bob.scheduler.jobs.submit(job_text())
    assert refused.value.faultCode == 400 and "restricted to the group(s) team" in refused.value.faultString
    assert isinstance(alice.scheduler.jobs.submit(job_text()), int)  # a member of the group
    assert isinstance(lab.rpc("admin").scheduler.jobs.submit(job_text()), int)  # a superuser
    # the global permission, through a group
    holders = Group.objects.create(name="holders")
    holders.permissions.add(Permission.objects.get(codename="submit_to_device"))
    User.objects.get(username="bob").groups.add(holders)
    assert isinstance(bob.scheduler.jobs.submit(job_text()), int)


def test_a_device_row_overrides_its_type_and_retired_devices_do_not_count(lab, device, worker):
    bob = lab.rpc("bob")
    GroupDeviceTypePermission.objects.create(group=lab.team, device_type_id="qemu", permission="submit_to_devicetype")
    # a device of the type with its own rows, open to a group bob is in
    bobs = Group.objects.create(name="bobs")
    User.objects.get(username="bob").groups.add(bobs)
    other = Device.objects.create(hostname="qemu-02", device_type_id="qemu", worker_host=worker)
    GroupDevicePermission.objects.create(group=bobs, device=other, permission="submit_to_device")
    assert isinstance(bob.scheduler.jobs.submit(job_text()), int)
    other.go_health(DeviceHealth.RETIRED, "retired for the test")
    other.save()
    with pytest.raises(xmlrpc.client.Fault):
        bob.scheduler.jobs.submit(job_text())


# remembered tokens


def test_each_request_gets_its_own_copy_of_a_remembered_user(lab):
    secret = lab.tokens["alice"]
    from lava_server.auth.tokens import user_for_token

    first = user_for_token(secret, "alice")
    first._perm_cache = {"made.up"}
    first._lava_group_ids = frozenset({999})
    second = user_for_token(secret, "alice")
    assert second is not first and second == first
    assert not hasattr(second, "_perm_cache") and not hasattr(second, "_lava_group_ids")
    assert second.has_perm("made.up") is False


def test_a_change_during_the_token_check_is_not_hidden(lab):
    alice = User.objects.get(username="alice")
    digest = hash_secret(lab.tokens["alice"])
    before = recent_tokens.generation()
    recent_tokens.forget_all()  # e.g. the token is deleted while this process reads it
    recent_tokens.remember(digest, alice, before)
    assert recent_tokens.recall(digest) is None


def test_a_revoked_token_fails_at_the_next_call(lab):
    alice = lab.rpc("alice")
    assert alice.system.whoami() == "alice"  # remembered now
    AuthToken.objects.filter(user__username="alice").delete()  # a queryset delete: one signal per row
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        alice.system.whoami()
    assert info.value.errcode == 401


@pytest.mark.django_db(transaction=True)
def test_each_thread_prepares_the_rights_query_on_its_own_connection(lab):
    """gunicorn's threads each hold a connection: what one prepared is not taken as prepared on another's."""
    import threading

    from django.db import connection

    bob = User.objects.get(username="bob")
    failures: list[BaseException] = []
    turns = [threading.Event() for _ in range(4)]

    def check(first_turn: int) -> None:
        try:
            for turn in (first_turn, first_turn + 2):
                turns[turn].wait(10)
                assert _submit_open(bob, "qemu", None, None)
                if turn + 1 < len(turns):
                    turns[turn + 1].set()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
            for event in turns:
                event.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=check, args=(first,)) for first in (0, 1)]
    for thread in threads:
        thread.start()
    turns[0].set()
    for thread in threads:
        thread.join(20)
    assert not failures, failures
