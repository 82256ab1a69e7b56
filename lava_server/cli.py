"""``lava-server manage <command>``: the lab's admin commands (Django management)."""

import os
import sys

from lava_common.file_modes import restrict_umask

USAGE = "usage: lava-server manage <command> [options]   (lava-server manage help: list commands)"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] != "manage":
        print(USAGE, file=sys.stderr)
        return 2
    restrict_umask()  # the database, job logs and dictionaries are for the lab's user and group only
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["lava-server manage", *argv[2:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
