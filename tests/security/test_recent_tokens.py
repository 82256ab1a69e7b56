"""A token verified a moment ago is remembered by the web process, never past its revocation."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import User

from lava_server.accounts.models import AuthToken, hash_secret
from lava_server.auth import recent_tokens
from lava_server.auth.tokens import user_for_token


@pytest.mark.django_db
def test_a_remembered_token_is_forgotten_when_revoked_or_its_user_changes():
    rita = User.objects.create_user("rita")
    token = AuthToken.objects.create(user=rita)
    secret = token.secret
    assert user_for_token(secret, "rita") == rita
    assert recent_tokens.recall(hash_secret(secret)) == rita
    assert user_for_token(secret, "someone-else") is None  # the name still has to match
    rita.is_active = False
    rita.save()
    assert user_for_token(secret, "rita") is None
    rita.is_active = True
    rita.save()
    assert user_for_token(secret, "rita") == rita
    token.delete()
    assert user_for_token(secret, "rita") is None


@pytest.mark.django_db
def test_a_change_made_by_another_process_is_seen_through_the_generation_file():
    digest = hash_secret("x" * 64)
    recent_tokens.remember(digest, User(username="ghost"), recent_tokens.generation())
    assert recent_tokens.recall(digest) is not None
    # what forget_all() in another web process leaves behind: only the file changes, not our memory
    path = recent_tokens._generation_file()
    path.touch()
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert recent_tokens.recall(digest) is None
