"""Refusing a YAML settings file sent over XML-RPC before it is stored."""

from lava_scheduler.lab.yaml_settings import yaml_mapping_problem
from lava_server.xmlrpc.registry import fault


def require_yaml_mapping(text: str, what: str) -> None:
    """Fault 400 saying what is wrong with ``what``, unless ``text`` is a YAML mapping."""
    problem = yaml_mapping_problem(text)
    if problem:
        raise fault(400, f"{what}: {problem}")
