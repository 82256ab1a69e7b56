"""Refusing a YAML file an admin uploads (worker settings, health checks) before it is stored."""

from lava_common.yaml_loader import YAMLLoadError, load_yaml
from lava_server.xmlrpc.registry import fault


def require_yaml_mapping(text: str, what: str) -> None:
    """Fault 400 saying where, unless ``text`` is a YAML mapping (the only shape these files have)."""
    try:
        data = load_yaml(text)
    except YAMLLoadError as exc:
        raise fault(400, f"{what}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise fault(400, f"{what}: expected a YAML mapping, got {type(data).__name__}")
