"""The web workers' connection check: no round trip for a quiet connection, Django's own check otherwise."""

import select
import time

import psycopg2
import pytest
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the check is the PostgreSQL backend's")


@pytest.fixture
def select_one_checks(monkeypatch) -> list[int]:
    """Counts the health checks that went to the server (Django's ``SELECT 1``)."""
    calls: list[int] = []
    real = django_postgresql.DatabaseWrapper.is_usable
    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", lambda self: calls.append(1) or real(self))
    return calls


def check_as_a_new_request_does() -> None:
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def other_session():
    settings = connection.settings_dict
    other = psycopg2.connect(dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"],
                             host=settings["HOST"], port=settings["PORT"])
    other.autocommit = True
    return other


def wait_readable() -> None:
    """Until the server's message (its goodbye, a notification) is on our socket."""
    deadline = time.monotonic() + 10
    while not select.select([connection.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "nothing arrived from the server"


def test_a_quiet_connection_is_kept_without_a_query(transactional_db, select_one_checks):
    connection.ensure_connection()
    raw = connection.connection
    for _ in range(3):
        check_as_a_new_request_does()
    assert select_one_checks == []
    assert connection.connection is raw


def test_a_connection_the_server_ended_is_replaced(transactional_db, select_one_checks):
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    other = other_session()
    try:
        other.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        other.close()
    wait_readable()
    check_as_a_new_request_does()
    assert select_one_checks == [1], "something to read: Django's own check decides"
    assert connection.connection is None, "the dead connection is closed"
    with connection.cursor() as cursor:  # the request's query runs on a new session
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_inside_a_transaction_is_asked(db, select_one_checks):
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # the test's transaction is open on the server
    check_as_a_new_request_does()
    assert select_one_checks == [1]
    assert connection.connection is not None


def test_a_live_connection_with_something_to_read_is_asked_and_kept(transactional_db, select_one_checks):
    connection.ensure_connection()
    raw = connection.connection
    with connection.cursor() as cursor:
        cursor.execute("LISTEN lava_health_check_test")
    other = other_session()
    try:
        other.cursor().execute("NOTIFY lava_health_check_test")
    finally:
        other.close()
    wait_readable()
    check_as_a_new_request_does()
    assert select_one_checks == [1]
    assert connection.connection is raw, "Django's check passed: the session is kept"
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
