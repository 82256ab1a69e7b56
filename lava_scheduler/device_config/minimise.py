"""The device configuration a MultiNode secondary connection (a "dynamic connection") runs with.

It has no device of its own: it logs in over ssh to its host role's board, so it gets that board's
configuration minimised to what an ssh login needs, and nothing that powers, flashes or opens the
board's consoles (the host's job does those).
"""

from typing import Any

_KEPT = ("hostname", "devicetype", "constants", "character_delays", "timeouts")


def minimised_config(config: dict[str, Any]) -> dict[str, Any]:
    """The host device's rendered configuration as a dynamic connection gets it: its ssh settings (deploy
    and boot method ``ssh``), constants, character delays and timeouts."""
    actions = config.get("actions") or {}
    ssh = ((actions.get("deploy") or {}).get("methods") or {}).get("ssh")
    boot_ssh = ((actions.get("boot") or {}).get("methods") or {}).get("ssh")
    minimal = {key: config[key] for key in _KEPT if key in config}
    minimal["actions"] = {"deploy": {"methods": {"ssh": ssh}},
                          "boot": {"connections": {"ssh": None}, "methods": {"ssh": boot_ssh}}}
    return minimal
