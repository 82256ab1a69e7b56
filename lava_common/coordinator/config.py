"""``/etc/lava-coordinator/lava-coordinator.conf``: one JSON object, read by the daemon and the dispatcher.

    {"port": 3079, "blocksize": 4096, "poll_delay": 3, "coordinator_hostname": "localhost"}

Missing keys take these defaults (the dispatcher polls every second unless the file says otherwise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path("/etc/lava-coordinator/lava-coordinator.conf")
DEFAULT_PORT = 3079


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class CoordinatorConfig:
    port: int = DEFAULT_PORT
    blocksize: int = 4096
    poll_delay: float = 1.0
    coordinator_hostname: str = "localhost"


_TYPES = {"port": int, "blocksize": int, "poll_delay": (int, float), "coordinator_hostname": str}


def parse_config(text: str, where: str = "lava-coordinator.conf") -> CoordinatorConfig:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a JSON object")
    values = {}
    for key, value in data.items():
        kind = _TYPES.get(key)
        if kind is None:
            continue  # other keys (logging options of older releases) are harmless
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"{where}: '{key}' has the wrong type ({value!r})")
        values[key] = value
    config = CoordinatorConfig(**values)
    if not 0 < config.port < 65536:
        raise ConfigError(f"{where}: 'port' must be 1-65535, got {config.port}")
    if config.blocksize < 1 or config.poll_delay <= 0:
        raise ConfigError(f"{where}: 'blocksize' and 'poll_delay' must be positive")
    return config


def load_config(path: Path = DEFAULT_PATH, missing_ok: bool = True) -> CoordinatorConfig:
    try:
        text = path.read_text()
    except FileNotFoundError:
        if missing_ok:
            return CoordinatorConfig()
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(text, str(path))
