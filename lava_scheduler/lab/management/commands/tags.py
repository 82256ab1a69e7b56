"""``lava-server manage tags add|list|rm``"""

from django.core.management.base import CommandError

from lava_scheduler.commandline import SubcommandCommand, add_format_options, get_or_fail, print_rows
from lava_scheduler.lab.models import Tag


class Command(SubcommandCommand):
    help = "Manage device tags"

    def add_subcommands(self, subparsers) -> None:
        add = subparsers.add_parser("add", help="create a tag")
        add.add_argument("name")
        add.add_argument("--description", default="")
        listing = subparsers.add_parser("list", help="list tags")
        add_format_options(listing)
        rm = subparsers.add_parser("rm", help="delete a tag")
        rm.add_argument("name")

    def handle_add(self, name: str, description: str, **_) -> None:
        if Tag.objects.filter(name=name).exists():
            raise CommandError(f"tag '{name}' already exists")
        tag = Tag(name=name, description=description)
        tag.full_clean()
        tag.save()
        self.stdout.write(f"tag '{name}' added")

    def handle_list(self, **options) -> None:
        rows = [(t.name, t.description, t.devices.count()) for t in Tag.objects.all()]
        print_rows(options, ["name", "description", "devices"], rows)

    def handle_rm(self, name: str, **_) -> None:
        get_or_fail(Tag, "tag", name=name).delete()
        self.stdout.write(f"tag '{name}' deleted")
