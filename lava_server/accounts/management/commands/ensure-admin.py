"""``lava-server manage ensure-admin``: the trial lab's admin account and API token.

Creates them on first run and keeps the generated password and token in the
state directory (mode 0600), so every start prints the same credentials: the
database keeps only the token's hash, so this file is the one place the lab's
admin token can be read again.
"""

import json
import os
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from lava_server.accounts.models import AuthToken


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # see lava_scheduler.commandline
    help = "Create (once) an admin user with an API token; print both as JSON"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, username: str, **_) -> None:
        path = settings.STATE_DIR / f"{username}-credentials.json"
        if path.exists():
            credentials = json.loads(path.read_text())
        else:
            credentials = {"username": username, "password": secrets.token_urlsafe(12), "token": secrets.token_hex(32)}
        user, _ = User.objects.get_or_create(username=username)
        if not user.check_password(credentials["password"]) or not user.is_superuser:
            user.set_password(credentials["password"])
            user.is_staff = user.is_superuser = user.is_active = True
            user.save()
        if not AuthToken.with_secret(credentials["token"]).filter(user=user).exists():
            AuthToken.objects.create(user=user, secret=credentials["token"], description="lab admin")
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(credentials, handle)
        self.stdout.write(json.dumps(credentials))
