"""``lava-worker``: placeholder until the worker issue is done."""

import sys
from typing import NoReturn


def main(argv: list[str] | None = None) -> NoReturn:
    print("usage: lava-worker --master tcp://HOST:PORT ...\nlava-worker: not implemented yet", file=sys.stderr)
    sys.exit(2)
