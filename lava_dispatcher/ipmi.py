"""Power commands that talk to a server's BMC with ``ipmitool``: which BMC, and no password in the logs.

A device dictionary's power command is a shell line written by the lab admin,
such as ``ipmitool -I lanplus -H bmc-7 -U admin -P secret chassis power on``.
When it fails the job must say which BMC refused, and neither the log nor the
error may carry the password.
"""

from __future__ import annotations

import re
import shlex

_PASSWORD = re.compile(r"(?P<flag>(?:^|\s)-P\s+)(?P<value>'[^']*'|\"[^\"]*\"|\S+)")


def hide_password(command: str) -> str:
    """The command with the value of ipmitool's ``-P`` replaced by ``****``."""
    if "ipmitool" not in command:
        return command
    return _PASSWORD.sub(lambda m: f"{m.group('flag')}****", command)


def bmc_address(command: str) -> str | None:
    """``host[:port]`` of the BMC an ipmitool command talks to, or None for any other command."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not any(word.rsplit("/", 1)[-1] == "ipmitool" for word in words):
        return None
    host = port = None
    for flag, value in zip(words, words[1:], strict=False):
        if flag == "-H":
            host = value
        elif flag == "-p":
            port = value
    if host is None:
        return None
    return f"{host}:{port}" if port else host
