"""Which line of a job definition an error path such as ``actions[0].boot.method`` points at."""

import re

import yaml

from lava_common.yaml_loader import Loader

TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _child(node: yaml.Node, key: str | None, index: int | None) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and key is not None:
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    if isinstance(node, yaml.SequenceNode) and index is not None and index < len(node.value):
        return node.value[index]
    return None


def line_of_path(text: str, path: str) -> int | None:
    """1-based line of the deepest part of ``path`` found in ``text``; None if not even the first is there."""
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return None
    found = None
    for match in TOKEN.finditer(path):
        key, index = match.group(1), match.group(2)
        node = _child(node, key, int(index) if index is not None else None) if node is not None else None
        if node is None:
            break
        found = node.start_mark.line + 1
    return found
