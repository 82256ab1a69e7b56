"""What every ``lava-server manage`` command shares: subcommands, output formats, errors.

Listing commands print an aligned table for people, or ``--csv`` / ``--json``
for scripts. Errors raise CommandError: a message on stderr and exit code 1.
"""

import csv
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lava_common.csv_cells import inert_cell
from lava_common.exceptions import LAVAError


class SubcommandCommand(BaseCommand):
    """A command whose first argument names what to do (``devices add ...``)."""

    # Django's system checks import every URL module and the admin: a second of start-up
    # for nothing these commands use ("manage check" still runs them all)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        self.add_subcommands(subparsers)

    def add_subcommands(self, subparsers) -> None:
        raise NotImplementedError

    def handle(self, *args, **options) -> None:
        name = options["subcommand"].replace("-", "_")
        handler: Callable[..., None] = getattr(self, f"handle_{name}")
        try:
            handler(**options)
        except (ValueError, LookupError, LAVAError) as exc:
            raise CommandError(str(exc)) from None


def add_format_options(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--csv", action="store_true", help="comma-separated values, with a header line")
    group.add_argument("--json", action="store_true", help="a JSON list of objects")


def print_rows(options: dict[str, Any], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    rows = [["" if value is None else value for value in row] for row in rows]
    if options.get("json"):
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2, default=str))
    elif options.get("csv"):
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([inert_cell(value) for value in row] for row in rows)
    else:
        text_rows = [[str(value) for value in row] for row in rows]
        widths = [max([len(c)] + [len(r[i]) for r in text_rows]) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        for row in text_rows:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def print_details(options: dict[str, Any], fields: dict[str, Any]) -> None:
    if options.get("json"):
        print(json.dumps(fields, indent=2, default=str))
        return
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        print(f"{key.ljust(width)} : {'' if value is None else value}")


def get_or_fail(model, what: str, **lookup):
    try:
        return model.objects.get(**lookup)
    except model.DoesNotExist:
        value = next(iter(lookup.values()))
        raise CommandError(f"no {what} '{value}'") from None
