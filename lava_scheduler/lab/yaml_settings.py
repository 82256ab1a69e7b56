"""Checking a YAML settings file an admin uploads (worker settings, health checks) before it is stored."""

from lava_common.yaml_loader import YAMLLoadError, load_yaml


def yaml_mapping_problem(text: str) -> str | None:
    """Why ``text`` is not a YAML mapping (the only shape these files have), or None when it is one."""
    try:
        data = load_yaml(text)
    except YAMLLoadError as exc:
        return f"not valid YAML: {exc}"
    if not isinstance(data, dict):
        return f"expected a YAML mapping, got {type(data).__name__}"
    return None
