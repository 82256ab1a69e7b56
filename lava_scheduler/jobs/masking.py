"""A job definition as someone who may see the job, but not its secrets, reads it.

A definition can carry credentials in three places: the values of
``secrets:``, the ``token`` of each notification callback, and the values of
every ``headers:`` mapping under ``actions`` (artefact downloads and test
definitions send them to servers that want a private token). Whoever may not
read them (``can_read_secrets``) gets the same text with each such value
replaced by ``"[MASKED]"`` where it stands, so that comments, order and
layout stay as the submitter wrote them.

The replacement is checked: the masked text must parse to the definition
with exactly those values masked. When it does not (anchors, merge keys,
odd layouts), the masked definition is dumped as plain YAML instead: the
layout is lost, never a secret.
"""

import copy
from typing import Any

import yaml

from lava_common.yaml_loader import YAMLLoadError, dump_yaml, load_yaml
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import can_read_secrets
from lava_scheduler.lab.config_access import can_read_health_check_secrets

MASK = "[MASKED]"
# a YAML string wherever it stands: a bare [MASKED] would be a list
MASK_YAML = '"[MASKED]"'
UNREADABLE = "# this definition is hidden: it could not be parsed to mask its secrets\n"

KeyPath = tuple[Any, ...]


def readable_definition(text: str, job: TestJob, user) -> str:
    """``text`` (a definition of ``job``) as ``user`` may read it."""
    return text if can_read_secrets(job, user) else mask_definition(text)


def readable_health_check(text: str, user) -> str:
    """A device type's health-check definition as ``user`` may read it (its submitter is the lab)."""
    return text if can_read_health_check_secrets(user) else mask_definition(text)


def mask_definition(text: str) -> str:
    """``text`` with every secret value replaced by ``"[MASKED]"``."""
    try:
        data = load_yaml(text)
    except YAMLLoadError:
        return UNREADABLE
    paths = sensitive_paths(data)
    if not paths:
        return text
    expected = copy.deepcopy(data)
    for path in paths:
        parent = expected
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = MASK
    masked = _mask_in_place(text, paths)
    if masked is not None:
        try:
            if load_yaml(masked) == expected:
                return masked
        except YAMLLoadError:
            pass
    return dump_yaml(expected)


def sensitive_paths(data: Any) -> list[KeyPath]:
    """Where the secret values of a parsed definition are: a path of keys and indexes for each."""
    if not isinstance(data, dict):
        return []
    paths: list[KeyPath] = []
    secrets = data.get("secrets")
    if isinstance(secrets, dict):
        for name, value in secrets.items():
            paths += _leaves(value, ("secrets", name))
    notify = data.get("notify")
    if isinstance(notify, dict):
        callbacks = notify.get("callbacks")
        if isinstance(notify.get("callback"), dict):
            paths += _tokens(notify["callback"], ("notify", "callback"))
        elif isinstance(callbacks, list):
            for index, callback in enumerate(callbacks):
                paths += _tokens(callback, ("notify", "callbacks", index))
    paths += _headers(data.get("actions"), ("actions",))
    return paths


def _leaves(value: Any, path: KeyPath) -> list[KeyPath]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    # an empty value hides nothing
    return [] if value is None else [path]


def _tokens(callback: Any, path: KeyPath) -> list[KeyPath]:
    if isinstance(callback, dict) and callback.get("token") is not None:
        return [(*path, "token")]
    return []


def _headers(value: Any, path: KeyPath) -> list[KeyPath]:
    found: list[KeyPath] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "headers" and isinstance(item, dict):
                found += _leaves(item, (*path, key))
            else:
                found += _headers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _headers(item, (*path, index))
    return found


def _mask_in_place(text: str, paths: list[KeyPath]) -> str | None:
    """The text with the scalar at each path replaced; None when a path cannot be followed in the nodes."""
    try:
        # the pure-Python loader: its marks count characters of ``text``, as slicing does
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    spans: set[tuple[int, int]] = set()
    for path in paths:
        node = _node_at(root, path)
        if not isinstance(node, yaml.ScalarNode):
            return None
        spans.add((node.start_mark.index, node.end_mark.index))
    for start, end in sorted(spans, reverse=True):
        original = text[start:end]
        # a block scalar's span ends with its line breaks: keep them
        text = text[:start] + MASK_YAML + original[len(original.rstrip()):] + text[end:]
    return text


def _node_at(node: yaml.Node | None, path: KeyPath) -> yaml.Node | None:
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next(
                (value for name, value in node.value if isinstance(name, yaml.ScalarNode) and name.value == str(key)),
                None,
            )
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return None
    return node
