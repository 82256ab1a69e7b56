"""``lava-server manage lava-keys NAME DIRECTORY``: a CURVE key pair for the master or a worker."""

from django.core.management.base import BaseCommand, CommandError

from lava_common import keys


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # see lava_scheduler.commandline
    help = "Make a CURVE key pair: NAME.key (public, give it to the other side) and NAME.key_secret"

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="the worker's hostname, or 'master'")
        parser.add_argument("directory", nargs="?", default="/etc/lava-dispatcher/certificates.d")

    def handle(self, name: str, directory: str, **_) -> None:
        try:
            public, secret = keys.create_key_pair(directory, name)
        except keys.KeyFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"public key: {public}\nsecret key: {secret}")
