"""Safe, bounded YAML loading for text that comes from users.

Job definitions arrive from anyone with a token: they are parsed with the
safe C loader, and refused early when they are too big, too deep, or when
aliases would expand them beyond a fixed number of nodes (alias bombs).
"""

from typing import Any

import yaml

from lava_common.constants import JOB_DEFINITION_MAX_BYTES, YAML_MAX_DEPTH, YAML_MAX_NODES

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# nesting that libyaml's recursive composer handles without any risk to the C stack
SAFE_COMPOSE_DEPTH = 2000


class YAMLLoadError(ValueError):
    """The text is not acceptable YAML; the message says why and where."""


def _check_depth(text: str, max_depth: int) -> None:
    depth = 0
    loader = Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    mark = event.start_mark
                    raise YAMLLoadError(
                        f"line {mark.line + 1}: nesting deeper than {max_depth} levels"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def _nesting_bound(text: str) -> int:
    """An upper bound of the nesting depth, cheap to compute.

    Flow collections need a bracket each; block collections need deeper
    indentation or one more ``-``/``:`` on a line, both bounded by the
    longest line.
    """
    longest = max(map(len, text.splitlines()), default=0)
    return text.count("[") + text.count("{") + 2 * longest + 2


def _check_tree(root: yaml.Node, max_depth: int, max_nodes: int) -> None:
    # aliases share node objects: walking every edge counts the document as it would be
    # built, so a billion-laughs document is stopped after max_nodes steps, not expanded
    count = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > max_nodes:
            raise YAMLLoadError(f"document expands to more than {max_nodes} nodes (aliases?)")
        if isinstance(node, yaml.CollectionNode):
            if depth > max_depth:
                raise YAMLLoadError(f"line {node.start_mark.line + 1}: nesting deeper than {max_depth} levels")
            if isinstance(node, yaml.SequenceNode):
                stack.extend((child, depth + 1) for child in node.value)
            else:
                for key, value in node.value:
                    stack.append((key, depth + 1))
                    stack.append((value, depth + 1))


def load_yaml(
    text: str | bytes,
    max_bytes: int = JOB_DEFINITION_MAX_BYTES,
    max_depth: int = YAML_MAX_DEPTH,
    max_nodes: int = YAML_MAX_NODES,
) -> Any:
    """Parse one YAML document from untrusted text, within the given bounds."""
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise YAMLLoadError(f"document is {len(text)} bytes, more than the limit of {max_bytes}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YAMLLoadError(f"not UTF-8 text: byte {exc.start}") from None
    elif len(text) > max_bytes:
        raise YAMLLoadError(f"document is {len(text)} characters, more than the limit of {max_bytes}")
    try:
        # libyaml's composer recurses in C: a document nested thousands deep would crash
        # the process, so such texts are first checked event by event
        if _nesting_bound(text) > SAFE_COMPOSE_DEPTH:
            _check_depth(text, max_depth)
        loader = Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_tree(node, max_depth, max_nodes)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise YAMLLoadError(_describe_yaml_error(exc)) from None
    except RecursionError:
        raise YAMLLoadError("document is nested too deeply") from None


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem


def dump_yaml(data: Any) -> str:
    """Block-style YAML, keys in insertion order."""
    return yaml.dump(data, Dumper=Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True)
