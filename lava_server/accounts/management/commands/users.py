"""``lava-server manage users add|update|list|details``"""

import secrets

from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError

from lava_scheduler.commandline import (
    SubcommandCommand,
    add_format_options,
    get_or_fail,
    print_details,
    print_rows,
)


class Command(SubcommandCommand):
    help = "Manage user accounts"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser("add", help="add a user")
        add.add_argument("username")
        add.add_argument("--email", default="")
        password = add.add_mutually_exclusive_group()
        password.add_argument("--passwd", help="the password (default: a random one, printed)")
        password.add_argument("--no-password", action="store_true", help="token-only account")
        add.add_argument("--staff", action="store_true")
        add.add_argument("--superuser", action="store_true")
        update = subparsers.add_parser("update", help="change a user (options not given stay as they are)")
        update.add_argument("username")
        update.add_argument("--email")
        update.add_argument("--passwd", help="a new password")
        for flag in ("active", "staff", "superuser"):
            update.add_argument(f"--{flag}", dest=flag, action="store_true", default=None)
            update.add_argument(f"--no-{flag}", dest=flag, action="store_false")
        update.add_argument("--groups", help="comma-separated: the user's groups from now on ('' for none)")
        listing = subparsers.add_parser("list", help="list users")
        listing.add_argument("--all", "-a", action="store_true", help="include inactive users")
        add_format_options(listing)
        details = subparsers.add_parser("details", help="show one user")
        details.add_argument("username")
        add_format_options(details)

    def handle_add(self, username: str, email: str, passwd, no_password: bool, staff: bool, superuser: bool, **_):
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user '{username}' already exists")
        generated = None
        if not passwd and not no_password:
            passwd = generated = secrets.token_urlsafe(12)
        user = User(username=username, email=email, is_staff=staff or superuser, is_superuser=superuser)
        if passwd:
            user.set_password(passwd)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        self.stdout.write(f"user '{username}' added")
        if generated:
            self.stdout.write(f"password: {generated}")

    def handle_update(self, username: str, email, passwd, active, staff, superuser, groups, **_) -> None:
        user = get_or_fail(User, "user", username=username)
        if groups is not None:
            names = [name.strip() for name in groups.split(",") if name.strip()]
            found = list(Group.objects.filter(name__in=names))
            missing = sorted(set(names) - {g.name for g in found})
            if missing:
                raise CommandError(f"--groups: no group(s) {', '.join(missing)}")
            user.groups.set(found)
        for field_name, value in (("email", email), ("is_active", active), ("is_staff", staff),
                                  ("is_superuser", superuser)):
            if value is not None:
                setattr(user, field_name, value)
        if passwd:
            user.set_password(passwd)
        user.full_clean(exclude=["password"])
        user.save()
        self.stdout.write(f"user '{username}' updated")

    def handle_list(self, all: bool, **options) -> None:
        users = User.objects.order_by("username")
        if not all:
            users = users.filter(is_active=True)
        rows = [(u.username, u.email, u.is_staff, u.is_superuser, u.is_active) for u in users]
        print_rows(options, ["username", "email", "staff", "superuser", "active"], rows)

    def handle_details(self, username: str, **options) -> None:
        user = get_or_fail(User, "user", username=username)
        print_details(
            options,
            {
                "username": user.username,
                "email": user.email,
                "staff": user.is_staff,
                "superuser": user.is_superuser,
                "active": user.is_active,
                "groups": [g.name for g in user.groups.all()],
                "date_joined": user.date_joined,
                "tokens": user.auth_tokens.count(),
            },
        )
