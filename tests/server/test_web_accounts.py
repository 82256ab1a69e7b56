"""Login, logout, the API-token page and the Django admin."""

import re

import pytest
from django.apps import apps
from django.contrib import admin

from lava_server.accounts.models import AuthToken, hash_secret
from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import client_for

web_lab, alice, bob, admin_user = fixtures.web_lab, fixtures.alice, fixtures.bob, fixtures.admin_user
pytestmark = pytest.mark.django_db


def test_login_and_logout(web_lab, alice):
    from django.test import Client

    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and "Wrong username or password" in wrong.content.decode()
    right = client.post("/accounts/login/", {"username": "alice", "password": "alice-password", "next": "/scheduler/jobs"})
    assert right.status_code == 302 and right["Location"] == "/scheduler/jobs"
    assert "alice" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code in (200, 302)
    assert client.get("/scheduler/jobsubmit").status_code == 302


def test_tokens_page_needs_login(web_lab):
    assert client_for(None).get("/accounts/tokens/").status_code == 302


def test_create_a_token_shown_once(web_lab, alice):
    client = client_for(alice)
    created = client.post("/accounts/tokens/", {"action": "create", "description": "laptop"})
    assert created.status_code == 200
    # only the hash is stored: the clear secret is read from the page that created it
    secret = re.search(r'id="new-token-secret">([0-9a-f]{64})<', created.content.decode()).group(1)
    token = AuthToken.objects.get(user=alice)
    assert token.description == "laptop" and token.secret_sha256 == hash_secret(secret)
    assert "lavacli identities add" in created.content.decode()
    listing = client.get("/accounts/tokens/").content.decode()
    assert "laptop" in listing and secret not in listing
    assert AuthToken.authenticate("alice", secret) == alice


def test_delete_only_your_own_tokens(web_lab, alice, bob):
    mine = AuthToken.objects.create(user=alice, description="mine")
    theirs = AuthToken.objects.create(user=bob, description="theirs")
    client = client_for(alice)
    refused = client.post("/accounts/tokens/", {"action": "delete", "id": theirs.pk}, follow=True)
    assert "No such token of yours" in refused.content.decode()
    assert client.post("/accounts/tokens/", {"action": "delete", "id": "x"}, follow=True).status_code == 200
    assert AuthToken.objects.filter(pk=theirs.pk).exists()
    client.post("/accounts/tokens/", {"action": "delete", "id": mine.pk})
    assert not AuthToken.objects.filter(pk=mine.pk).exists()
    assert "theirs" not in client.get("/accounts/tokens/").content.decode()


def test_every_model_is_in_the_admin_and_its_pages_open(web_lab, admin_user):
    client = client_for(admin_user)
    ours = [m for label in ("accounts", "lab", "jobs", "results") for m in apps.get_app_config(label).get_models()]
    assert ours
    for model in ours:
        assert admin.site.is_registered(model), model.__name__
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, base
        model_admin = admin.site._registry[model]
        if model_admin.has_add_permission(type("R", (), {"user": admin_user})()):
            assert client.get(base + "add/").status_code == 200, base + "add/"
    device_page = client.get("/admin/lab/device/fake-01/change/")
    assert device_page.status_code == 200 and "test setup" in device_page.content.decode()


def test_admin_is_for_staff_only(web_lab, alice):
    assert client_for(alice).get("/admin/").status_code == 302


def test_the_history_admin_lists_the_newest_rows_first(web_lab, admin_user):
    from lava_scheduler.lab.models import DeviceTransition

    listed = list(client_for(admin_user).get("/admin/lab/devicetransition/").context["cl"].result_list)
    assert listed and [row.pk for row in listed] == list(DeviceTransition.objects.order_by("-id").values_list("pk", flat=True))[:len(listed)]
