"""What a job may put on a QEMU command line, and how that command line becomes an argument list.

QEMU is started from an argument list, never through a shell. The device's
``options``/``extra`` strings are split with ``shlex`` (they are template text,
written by the admin); the job's parts are checked first so that they cannot
add arguments or reach the host:

- a context value that fills one option (``machine``, ``cpu``, ``memory``...)
  is one word from a narrow alphabet: no space, quote or shell character can
  make it more than that option's value;
- ``extra_options`` and each image's ``image_arg`` may only use the options in
  ``JOB_OPTIONS``; a host path may only appear as an image's ``{label}``
  placeholder, which the dispatcher replaces by the downloaded file in the
  job's scratch space.

QEMU itself can run host commands (``-incoming exec:``, a monitor's
``migrate exec:``, ``guestfwd=...-cmd:``, a tap ``script=``) and open host
files (``file=``, ``romfile=``, ``-serial file:``); this is why the options are
an allow-list and the monitor stays off.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# one word: no whitespace, quotes, $, `, ;, &, |, <, >, (, ), \, *, ?, [, ], {, }, ~, #, !
_WORD = re.compile(r"[A-Za-z0-9_.,:=+/@%-]+\Z")
_NAME = re.compile(r"[A-Za-z0-9_.+-]+\Z")
_PLACEHOLDERS = re.compile(r"\{[A-Za-z0-9_.-]+\}")
_PLACEHOLDER = re.compile(_PLACEHOLDERS.pattern + r"\Z")

# sub-option keys that name a host file, a host command or a host socket
HOST_KEYS = frozenset({
    "bios", "bootfile", "db", "dir", "dtb", "downscript", "dumpdtb", "fd", "fds", "file", "filename", "firmware",
    "guestfwd", "helper", "initrd", "kernel", "logfile", "mem-path", "path", "romfile", "rootdir", "rrfile",
    "script", "smb", "sock", "socket", "splash", "tftp", "vhostfd", "vhostfds",
})
# character devices that stay inside QEMU; file:, pipe:, unix:, mon: (the monitor) and others are refused
SAFE_CHARDEVS = frozenset({"none", "null", "stdio", "pty", "vc"})
# a tap the job describes runs the host's qemu-ifup script and changes the host's network: a job only
# says `netdevice: tap`, and the device dictionary's tap_bridge/tap_interface give the admin's network
SAFE_NETDEVS = frozenset({"user", "nic", "none"})
TAP_KEYWORD = "tap"
SAFE_OBJECTS = frozenset({"rng-builtin", "rng-random", "memory-backend-ram", "iothread", "throttle-group"})
RANDOM_DEVICES = frozenset({"/dev/urandom", "/dev/random"})
# -device drivers that hand host hardware or host sockets to the guest
HOST_DEVICE_PREFIXES = ("usb-host", "vfio", "vhost-", "ivshmem", "pci-assign", "virtio-9p", "u2f-passthru")


def _suboptions(value: str) -> list[tuple[str, str]]:
    """``a,b=c`` -> [("", "a"), ("b", "c")]: the leading bare word, then key=value pairs."""
    pairs = []
    for part in value.split(","):
        key, sep, val = part.partition("=")
        pairs.append((key, val) if sep else ("", part))
    return pairs


def _check_suboptions(value: str, placeholders: bool, net_keys: bool = False) -> str | None:
    for key, val in _suboptions(value):
        # -global driver.romfile=..., -drive file.filename=..., -global property=file,value=...
        if key.rsplit(".", 1)[-1] in HOST_KEYS or (key == "property" and val in HOST_KEYS):
            if placeholders and key == "file" and _PLACEHOLDER.match(val):
                continue
            return f"'{key}=' names a host file or command; a job may not set it"
        if key.startswith("x-"):
            return f"experimental property '{key}' is not allowed"
        if "/" in val and not (net_keys and key in ("net", "ipv6-net", "host", "ipv6-prefix")):
            return f"'{val}' looks like a host path; a job may not give one"
    return None


def _word(value: str, placeholders: bool = False) -> str | None:
    if placeholders:
        value = _PLACEHOLDERS.sub("image", value)
    return None if _WORD.match(value) else "must be one word of letters, digits and _ . , : = + / @ % -"


def _generic(value: str, placeholders: bool) -> str | None:
    return _word(value, placeholders) or _check_suboptions(value, placeholders)


def _named(value: str, placeholders: bool) -> str | None:
    return None if _NAME.match(value) else "must be a name (letters, digits and _ . + -)"


def _chardev(value: str, placeholders: bool) -> str | None:
    if value in SAFE_CHARDEVS:
        return None
    if value.startswith("mon:"):
        return ("'mon:' puts the QEMU monitor on the console, where the job's text could make QEMU run "
                "commands or write files on the worker (use stdio)")
    return f"must be one of {', '.join(sorted(SAFE_CHARDEVS))} (others open host files, sockets or the monitor)"


def _display(value: str, placeholders: bool) -> str | None:
    return None if value == "none" else "must be 'none' (the console is the serial line)"


def _monitor(value: str, placeholders: bool) -> str | None:
    # the QEMU monitor runs host commands (migrate "exec:..."), and the console is job text
    return None if value == "none" else "must be 'none': the QEMU monitor can run commands on the worker"


def _netdev(value: str, placeholders: bool) -> str | None:
    if error := _word(value):
        return error
    kind = value.split(",", 1)[0]
    if kind not in SAFE_NETDEVS:
        return f"network backend '{kind}' is not allowed (use {', '.join(sorted(SAFE_NETDEVS))})"
    return _check_suboptions(value, placeholders, net_keys=True)


def _device(value: str, placeholders: bool) -> str | None:
    if error := _generic(value, placeholders):
        return error
    if value.split(",", 1)[0].startswith(HOST_DEVICE_PREFIXES):
        return f"device '{value.split(',', 1)[0]}' passes host hardware or sockets to the guest"
    return None


def _object(value: str, placeholders: bool) -> str | None:
    if error := _word(value):
        return error
    kind = value.split(",", 1)[0]
    if kind not in SAFE_OBJECTS:
        return f"object type '{kind}' is not allowed (use {', '.join(sorted(SAFE_OBJECTS))})"
    pairs = [(k, v) for k, v in _suboptions(value) if not (k == "filename" and v in RANDOM_DEVICES)]
    return _check_suboptions(",".join(f"{k}={v}" if k else v for k, v in pairs), placeholders)


def _image_file(value: str, placeholders: bool) -> str | None:
    if placeholders and _PLACEHOLDER.match(value):
        return None
    return "must be an image placeholder such as {kernel}: a job may not name a host file"


def _free_text(value: str, placeholders: bool) -> str | None:
    # the kernel command line: any text, passed to QEMU as one argument
    return None


Check = Callable[[str, bool], "str | None"]
# option -> check of its value; None: the option takes no value
JOB_OPTIONS: dict[str, Check | None] = {
    "-accel": _generic, "-append": _free_text, "-boot": _generic, "-cpu": _generic, "-device": _device,
    "-display": _display, "-drive": _generic, "-global": _generic, "-icount": _generic, "-k": _named,
    "-m": _generic, "-machine": _generic, "-M": _generic, "-monitor": _monitor, "-name": _generic,
    "-net": _netdev, "-netdev": _netdev, "-object": _object, "-parallel": _chardev, "-rtc": _generic,
    "-serial": _chardev, "-smp": _generic, "-uuid": _generic, "-vga": _named,
    "-kernel": _image_file, "-initrd": _image_file, "-dtb": _image_file, "-bios": _image_file,
    "-pflash": _image_file, "-cdrom": _image_file, "-hda": _image_file, "-hdb": _image_file, "-sd": _image_file,
    "-nographic": None, "-no-reboot": None, "-no-shutdown": None, "-nodefaults": None, "-snapshot": None,
    "-usb": None,
}

# job context variable -> the option whose value it is (checked like that option's value)
CONTEXT_OPTIONS: dict[str, str] = {
    "machine": "-machine", "cpu": "-cpu", "memory": "-m", "monitor": "-monitor", "vga": "-vga",
    "serial": "-serial", "netdevice": "-net", "boot_console": "-append", "boot_root": "-append",
}
# context variables written into the middle of an option (``-net nic,model=X``, ``-drive ...,id=X``)
CONTEXT_NAMES = ("model", "guestfs_driveid", "guestfs_interface")
# the reference's jobs may write the option's name too (``vga: '-vga none'``, ``model: model=stellaris``):
# qemu.jinja2 drops it, and the rest is checked as the value, one argv word
CONTEXT_PREFIXES = {"vga": "-vga ", "serial": "-serial ", "model": "model="}


def context_value(key: str, value: Any) -> str:
    """A context variable's value as qemu.jinja2 writes it into the option (the same prefix dropped)."""
    text = str(value)
    prefix = CONTEXT_PREFIXES.get(key)
    if prefix and text.startswith(prefix):
        text = text[len(prefix):]
        return text if key == "model" else text.strip()
    return text


def check_job_args(args: list[str], where: str, placeholders: bool = False) -> list[str]:
    """Errors of job-written QEMU arguments (already split); ``placeholders`` allows ``{label}`` files."""
    errors = []
    position = 0
    while position < len(args):
        token = args[position]
        option = token[1:] if token.startswith("--") else token
        if option not in JOB_OPTIONS:
            shown = token if len(token) < 60 else token[:57] + "..."
            if not token.startswith("-"):
                errors.append(f"{where}: '{shown}' is not a QEMU option (expected one starting with '-')")
            else:
                errors.append(f"{where}: QEMU option '{shown}' is not one a job may use "
                              f"(allowed: {' '.join(sorted(JOB_OPTIONS))})")
            position += 1
            continue
        check = JOB_OPTIONS[option]
        position += 1
        if check is None:
            continue
        if position >= len(args):
            errors.append(f"{where}: QEMU option '{token}' needs a value")
            break
        if error := check(args[position], placeholders):
            errors.append(f"{where}: {token} '{args[position]}': {error}")
        position += 1
    return errors


def split_job_text(text: str, where: str) -> tuple[list[str], list[str]]:
    """(arguments, errors) of job text split like a shell would split words, without running anything."""
    try:
        return shlex.split(text), []
    except ValueError as exc:
        return [], [f"{where}: cannot split '{text}' into arguments: {exc}"]


def check_context(context: Any, tap_network: str = "") -> list[str]:
    """Errors of the QEMU variables of a job's ``context`` (each error names ``context.<key>``).

    ``tap_network`` is the device's tap network (its dictionary's ``tap_bridge`` or ``tap_interface``,
    which the template put in place of ``netdevice: tap``); without one, ``tap`` is refused.
    """
    if not isinstance(context, Mapping):
        return []
    errors = []
    for key, value in context.items():
        where = f"context.{key}"
        if key == "netdevice" and str(value) == TAP_KEYWORD:
            if not tap_network:
                errors.append(f"{where}: 'tap': this device has no tap network on its worker (its dictionary "
                              "sets neither tap_bridge nor tap_interface); use user, nic or none")
        elif key in CONTEXT_OPTIONS:
            text = context_value(key, value)
            check = JOB_OPTIONS[CONTEXT_OPTIONS[key]]
            if error := _word(text) or (check(text, False) if check else None):
                errors.append(f"{where}: '{text}' {error}" if error.startswith("must") else f"{where}: '{text}': {error}")
        elif key in CONTEXT_NAMES and not _NAME.match(context_value(key, value)):
            errors.append(f"{where}: '{value}' must be a name (letters, digits and _ . + -)")
        elif key == "extra_options":
            errors.extend(check_job_args(_extra_options_args(value, where, errors), where))
    return errors


def _extra_options_args(value: Any, where: str, errors: list[str]) -> list[str]:
    entries: Iterable[Any] = value if isinstance(value, list) else [value]
    args: list[str] = []
    for index, entry in enumerate(entries):
        split, split_errors = split_job_text(str(entry), f"{where}[{index}]")
        errors.extend(split_errors)
        args += split
    return args


def image_argv(template: str, paths: Mapping[str, str]) -> list[str]:
    """An image's ``image_arg`` as arguments, each ``{label}`` replaced by that image's path."""
    argv = []
    for word in shlex.split(template):
        for label, path in paths.items():
            word = word.replace("{" + label + "}", path)
        argv.append(word)
    return argv


def admin_argv(options: Iterable[Any]) -> list[str]:
    """The device's options (template text: the job's values in them were checked) as arguments."""
    argv: list[str] = []
    for option in options:
        argv += shlex.split(str(option))
    return argv
