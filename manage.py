#!/usr/bin/env python3
"""Development entry point: ``./manage.py <command>`` is ``lava-server manage <command>``."""

import sys

from lava_server.cli import main

if __name__ == "__main__":
    sys.exit(main([sys.argv[0], "manage", *sys.argv[1:]]))
