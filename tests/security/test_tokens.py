"""API tokens: only a hash is stored, the secret is shown once, clients keep working."""

import hashlib
import io
import json
import os
import stat

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from lava_server.accounts.models import AuthToken
from tests.server.test_xmlrpc import basic, proxy


def manage(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def stored_values() -> list[str]:
    """Every value of every row of the token table, as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")
        return [str(value) for row in cursor.fetchall() for value in row]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.django_db
def test_a_token_made_by_the_command_is_stored_as_its_hash_and_still_opens_every_api(user):
    secret = manage("tokens", "add", "--user", "alice", "--description", "ci").strip()
    assert len(secret) == 64
    values = stored_values()
    assert sha256(secret) in values
    assert not any(secret in value for value in values)
    assert proxy(basic("alice", secret)).system.whoami() == "alice"  # lavacli's Basic auth on /RPC2
    rest = Client(HTTP_AUTHORIZATION=f"Token {secret}").get("/api/v0.2/system/whoami/")
    assert rest.json() == {"user": "alice"}
    assert Client(HTTP_AUTHORIZATION=f"Token {sha256(secret)}").get("/api/v0.2/jobs/").status_code == 401
    listing = manage("tokens", "list", "--json")
    assert secret not in listing and sha256(secret) not in listing


@pytest.mark.django_db
def test_a_given_secret_is_hashed_too_and_cannot_be_reused(user):
    given = "x" * 40
    assert manage("tokens", "add", "--user", "alice", "--secret", given).strip() == given
    assert given not in stored_values()
    assert AuthToken.authenticate("alice", given) == user
    with pytest.raises(Exception, match="already in use"):
        manage("tokens", "add", "--user", "alice", "--secret", given)


@pytest.mark.django_db
def test_a_token_read_back_has_no_secret(user):
    created = AuthToken.objects.create(user=user)
    assert created.secret and AuthToken.objects.get(pk=created.pk).secret is None


@pytest.mark.django_db
def test_the_django_admin_cannot_make_a_token_it_could_never_show(user):
    admin = User.objects.create_superuser("root")
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/accounts/authtoken/add/").status_code == 403
    assert client.get("/admin/accounts/authtoken/").status_code == 200


@pytest.mark.django_db
def test_the_lab_admin_token_is_kept_in_a_private_file_and_printed_again(settings, tmp_path):
    settings.STATE_DIR = tmp_path
    first = json.loads(manage("ensure-admin"))
    again = json.loads(manage("ensure-admin"))
    assert again == first
    assert AuthToken.objects.filter(user__username="admin").count() == 1
    assert first["token"] not in stored_values()
    assert AuthToken.authenticate("admin", first["token"]).username == "admin"
    assert stat.S_IMODE(os.stat(tmp_path / "admin-credentials.json").st_mode) == 0o600


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_existing_clear_tokens_and_going_back_forgets_them():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("accounts")
    executor.migrate([("accounts", "0001_initial")])
    old_apps = executor.loader.project_state([("accounts", "0001_initial")]).apps
    carol = old_apps.get_model("auth", "User").objects.create(username="carol")
    old_apps.get_model("accounts", "AuthToken").objects.create(user=carol, secret="clear-" + "a" * 40)
    old_apps.get_model("accounts", "AuthToken").objects.create(user=carol, secret="clear-" + "b" * 40)

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    values = stored_values()
    assert not any("clear-" in value for value in values)
    assert sha256("clear-" + "a" * 40) in values
    assert AuthToken.authenticate("carol", "clear-" + "b" * 40).username == "carol"

    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    assert stored_values() == []
    MigrationExecutor(connection).migrate(latest)
