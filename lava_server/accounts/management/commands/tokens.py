"""``lava-server manage tokens add|list|rm``"""

from django.contrib.auth.models import User
from django.core.management.base import CommandError

from lava_scheduler.commandline import SubcommandCommand, add_format_options, get_or_fail, print_rows
from lava_server.accounts.models import AuthToken


class Command(SubcommandCommand):
    help = "Manage API tokens"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser(
            "add", help="create a token for a user and print its secret (shown only here: only its hash is kept)"
        )
        add.add_argument("--user", required=True)
        add.add_argument("--description", default="")
        add.add_argument("--secret", help="use this secret instead of a random one (at least 32 characters)")
        listing = subparsers.add_parser("list", help="list tokens")
        listing.add_argument("--user")
        add_format_options(listing)
        rm = subparsers.add_parser("rm", help="delete a token")
        rm.add_argument("id", type=int)

    def handle_add(self, user: str, description: str, secret, **_) -> None:
        owner = get_or_fail(User, "user", username=user)
        token = AuthToken(user=owner, description=description)
        if secret is not None:
            if len(secret) < 32:
                raise CommandError("--secret: a token secret needs at least 32 characters")
            if AuthToken.with_secret(secret).exists():
                raise CommandError("--secret: that secret is already in use")
            token.secret = secret
        token.save()
        self.stdout.write(token.secret)

    def handle_list(self, user, **options) -> None:
        tokens = AuthToken.objects.select_related("user")
        if user:
            tokens = tokens.filter(user=get_or_fail(User, "user", username=user))
        rows = [(t.id, t.user.username, t.description, t.created_on, t.last_used_on) for t in tokens]
        print_rows(options, ["id", "user", "description", "created", "last_used"], rows)

    def handle_rm(self, id: int, **_) -> None:
        get_or_fail(AuthToken, "token", id=id).delete()
        self.stdout.write(f"token {id} deleted")
