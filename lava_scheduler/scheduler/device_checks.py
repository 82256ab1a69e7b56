"""Whether each device's configuration renders, and which type its dictionary extends, remembered
across passes and scheduler restarts.

Rendering a device configuration (or parsing a dictionary) costs milliseconds;
a lab of 1,000 boards would spend seconds on the first pass after every
scheduler start. A result
stays valid while the device's dictionary (its modification time) and the
device-type templates (a fingerprint of their folders) are unchanged; it is
kept in memory and in ``STATE_DIR/scheduler/device-checks.json``, written
once per pass that learnt something. The master renders again with the job
context when the job starts, so a stale entry can at worst fail one job.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

FORMAT = 2


@dataclass(frozen=True)
class Check:
    mtime: float
    error: str | None


_checks: dict[str, Check] = {}
_extends: dict[str, tuple[float, str | None]] = {}  # dictionary path -> (its mtime, the type it extends)
_state = {"loaded": False, "dirty": False, "fingerprint": None}
# during a pass: hostname -> (dictionary path, its mtime or None), each file looked at once a pass
_dictionaries: dict[str, tuple[str, float | None]] | None = None
_devices_dir = ""


def _file() -> Path:
    return Path(settings.STATE_DIR) / "scheduler" / "device-checks.json"


def templates_fingerprint() -> list:
    """Name, size and modification time of every device-type template (a few dozen stats)."""
    found = []
    for folder in settings.DEVICE_TYPES_PATHS:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".jinja2"):
                stat = entry.stat()
                found.append([str(folder), entry.name, stat.st_size, stat.st_mtime])
    return found


def dictionary(hostname: str) -> tuple[str, float | None]:
    """The path of the device's dictionary and its modification time (None: no such file)."""
    known = _dictionaries.get(hostname) if _dictionaries is not None else None
    if known is None:
        # a plain string join and stat: this runs for every idle device on every pass
        path = (_devices_dir or os.path.join(str(settings.DEVICES_PATH), "")) + hostname + ".jinja2"
        try:
            known = path, os.stat(path).st_mtime
        except FileNotFoundError:
            known = path, None
        if _dictionaries is not None:
            _dictionaries[hostname] = known
    return known


def start_pass() -> None:
    """Forget everything if a device-type template changed since the results were made."""
    global _dictionaries, _devices_dir
    _dictionaries, _devices_dir = {}, os.path.join(str(settings.DEVICES_PATH), "")
    fingerprint = templates_fingerprint()
    if not _state["loaded"]:
        _state["loaded"] = True
        _load(fingerprint)
    if fingerprint != _state["fingerprint"]:
        _checks.clear()
        _extends.clear()
        _state["fingerprint"], _state["dirty"] = fingerprint, True


def _load(fingerprint: list) -> None:
    try:
        saved = json.loads(_file().read_text())
        if saved.get("format") != FORMAT or saved.get("templates") != fingerprint:
            return
        _checks.update({path: Check(mtime, error) for path, (mtime, error) in saved["devices"].items()})
        _extends.update({path: (mtime, extends) for path, (mtime, extends) in saved["extends"].items()})
        _state["fingerprint"] = fingerprint
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return  # missing or unreadable: every device is rendered once again


def recall(path: str, mtime: float) -> Check | None:
    if not _state["loaded"]:
        start_pass()
    check = _checks.get(path)
    return check if check is not None and check.mtime == mtime else None


def remember(path: str, mtime: float, error: str | None) -> None:
    _checks[path] = Check(mtime, error)
    _state["dirty"] = True


def recall_extends(path: str, mtime: float) -> tuple[bool, str | None]:
    """(known, the device type the dictionary extends or None)."""
    if not _state["loaded"]:
        start_pass()
    known = _extends.get(path)
    return (True, known[1]) if known is not None and known[0] == mtime else (False, None)


def remember_extends(path: str, mtime: float, device_type: str | None) -> None:
    _extends[path] = (mtime, device_type)
    _state["dirty"] = True


def end_pass() -> None:
    """Write what this pass learnt (atomically: a reader never sees half a file)."""
    global _dictionaries, _devices_dir
    _dictionaries, _devices_dir = None, ""
    if not _state["dirty"]:
        return
    target = _file()
    data = {"format": FORMAT, "templates": _state["fingerprint"],
            "devices": {path: [check.mtime, check.error] for path, check in _checks.items()},
            "extends": {path: [mtime, extends] for path, (mtime, extends) in _extends.items()}}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".device-checks.")
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, target)
        _state["dirty"] = False
    except OSError:
        pass  # kept in memory; the next pass tries again
