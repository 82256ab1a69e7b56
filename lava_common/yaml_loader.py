"""Safe, bounded YAML loading for text that comes from users.

Job definitions arrive from anyone with a token: they are parsed with the
safe C loader, and refused early when they are too big, too deep, or when
aliases would expand them beyond a fixed number of nodes (alias bombs).
"""

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lava_common.constants import JOB_DEFINITION_MAX_BYTES, YAML_MAX_DEPTH, YAML_MAX_NODES
from lava_common.plain_yaml import NOT_PLAIN, read_plain, remember, write_plain

# PyYAML's pure-Python reader checks text against this pattern; compiling it walks every code
# point below U+FFFF in Python, 58 M instructions: more than the rest of PyYAML's import, a
# seventh of `lava-run --validate` (issue 17). The C loader used here never reads it.
_PURE_READER_PATTERN = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"


class _CompiledOnFirstUse:
    """Stands for ``re.compile(pattern)`` and compiles it when one of its methods is first used."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __getattr__(self, name: str) -> Any:
        return getattr(re.compile(self.pattern), name)


@contextmanager
def _reader_pattern_compiled_on_first_use() -> Iterator[None]:
    real_compile = re.compile

    def compile_later(pattern: Any, flags: int = 0) -> Any:
        if pattern == _PURE_READER_PATTERN and flags == 0:
            return _CompiledOnFirstUse(pattern)
        return real_compile(pattern, flags)

    re.compile = compile_later
    try:
        yield
    finally:
        re.compile = real_compile


with _reader_pattern_compiled_on_first_use():
    import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# nesting that libyaml's recursive composer handles without any risk to the C stack
SAFE_COMPOSE_DEPTH = 2000

# plain scalars' resolved tags (plain_yaml.remember bounds it)
_resolved: dict[str, str] = {}


class _RememberedTags:
    """Tag resolution cut short, for the C loader and dumper.

    libyaml asks Python for the tag of every node it composes or serializes:
    PyYAML then tries the implicit resolvers' regular expressions on each
    plain scalar and walks its path resolvers, which cost as much as the
    parse itself. No path resolver is ever added to these classes, so a
    node's tag depends on its kind and, for a plain scalar, on its text
    alone: that tag is remembered.
    """

    def descend_resolver(self, current_node, current_index) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind, value, implicit):
        if kind is yaml.SequenceNode:
            return self.DEFAULT_SEQUENCE_TAG
        if kind is yaml.MappingNode:
            return self.DEFAULT_MAPPING_TAG
        if not implicit[0]:
            return self.DEFAULT_SCALAR_TAG
        tag = _resolved.get(value)
        if tag is None:
            tag = remember(_resolved, value, super().resolve(kind, value, implicit))
        return tag


class _UserTextLoader(_RememberedTags, Loader):  # type: ignore[misc, valid-type]
    pass


class _PlainDumper(_RememberedTags, Dumper):  # type: ignore[misc, valid-type]
    pass


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


STR, SEQ, MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


class _Unusual(Exception):
    """A node that _construct_plain leaves to PyYAML's own constructor."""


def _construct_plain(loader, root: yaml.Node) -> Any:
    """The document as PyYAML's safe constructor builds it, about three times faster.

    Job definitions are plain maps, lists and strings: those are built here
    directly, other scalars (numbers, booleans, dates...) by PyYAML's own
    functions; anything else (merge keys, collections as keys, sets, unknown
    tags...) raises _Unusual and the caller lets PyYAML build the whole
    document, errors included. Nodes shared through aliases give one shared
    object, as with PyYAML; _check_tree has already bounded depth and size.
    """
    built: dict[int, Any] = {}  # collections by node: aliases share them
    scalars = loader.yaml_constructors

    def build(node: yaml.Node) -> Any:
        kind, tag = type(node), node.tag
        if kind is yaml.ScalarNode:
            if tag == STR:
                return node.value
            if tag in _PLAIN_SCALARS:
                return scalars[tag](loader, node)
            raise _Unusual
        known = built.get(id(node))
        if known is not None:
            return known
        if kind is yaml.SequenceNode and tag == SEQ:
            built[id(node)] = value = []
            value.extend(build(child) for child in node.value)
            return value
        if kind is yaml.MappingNode and tag == MAP:
            built[id(node)] = value = {}
            for key_node, value_node in node.value:
                if type(key_node) is not yaml.ScalarNode or key_node.tag not in _PLAIN_KEYS:
                    raise _Unusual  # merge keys ("<<"), "=" keys, collections as keys
                value[build(key_node)] = build(value_node)
            return value
        raise _Unusual

    return build(root)


# scalar tags whose PyYAML constructor returns the value (not a generator for a two-step build)
_PLAIN_SCALARS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary", "timestamp")
)
_PLAIN_KEYS = _PLAIN_SCALARS | {STR}


class _ScalarTyper(_RememberedTags, yaml.resolver.Resolver, yaml.constructor.SafeConstructor):
    """PyYAML's safe loader's view of a plain scalar, without a parser: for read_plain."""


_scalar_typer = _ScalarTyper()


# values of short plain scalars: all immutable (str, int, float, bool, None, dates, bytes)
_plain_values: dict[str, Any] = {}


def _plain_scalar(text: str) -> Any:
    value = _plain_values.get(text, _plain_values)
    if value is not _plain_values:
        return value
    tag = _scalar_typer.resolve(yaml.ScalarNode, text, (True, False))
    if tag == STR:
        value = text
    elif tag in _PLAIN_SCALARS:
        value = _scalar_typer.yaml_constructors[tag](_scalar_typer, yaml.ScalarNode(tag, text))
    else:
        raise _Unusual  # merge keys ("<<"), "=": libyaml's path builds them
    return remember(_plain_values, text, value)


_written: dict[str, str] = {}  # dump_yaml's form of short strings


def _plain_is_str(text: str) -> bool:
    return _scalar_typer.resolve(yaml.ScalarNode, text, (True, False)) == STR


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
    # most definitions are plain block YAML, read in about half the time without libyaml's nodes
    value = read_plain(text, _plain_scalar, max_depth, max_nodes)
    if value is not NOT_PLAIN:
        return value
    try:
        # libyaml's composer recurses in C: a document nested thousands deep would crash
        # the process, so such texts are first checked event by event
        if _nesting_bound(text) > SAFE_COMPOSE_DEPTH:
            _check_depth(text, max_depth)
        loader = _UserTextLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_tree(node, max_depth, max_nodes)
            try:
                return _construct_plain(loader, node)
            except Exception:  # _Unusual, or a bad scalar: PyYAML builds it, and words the error its way
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
    text = write_plain(data, _plain_is_str, _written)
    if text is not None:
        return text
    try:
        node = _represent_plain(data)
    except _Unusual:
        return yaml.dump(data, Dumper=Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True)
    stream = io.StringIO()
    dumper = _PlainDumper(stream, default_flow_style=False, sort_keys=False, allow_unicode=True)
    try:
        dumper.open()
        dumper.serialize(node)
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


_PLAIN_SCALAR_TYPES = {
    str: (STR, str), int: ("tag:yaml.org,2002:int", str), bool: ("tag:yaml.org,2002:bool", lambda v: str(v).lower()),
}


def _represent_plain(data: Any) -> yaml.Node:
    """The nodes PyYAML's safe representer makes of maps, lists, strings, integers, booleans and
    nulls (about four times faster); _Unusual for anything else, or for a list or map met twice
    (PyYAML writes an anchor and an alias for those)."""
    seen: set[int] = set()

    def node(value: Any) -> yaml.Node:
        kind = type(value)
        scalar = _PLAIN_SCALAR_TYPES.get(kind)
        if scalar is not None:
            tag, text = scalar
            return yaml.ScalarNode(tag, text(value))
        if value is None:
            return yaml.ScalarNode("tag:yaml.org,2002:null", "null")
        if kind is not dict and kind is not list or id(value) in seen:
            raise _Unusual
        seen.add(id(value))
        if kind is list:
            return yaml.SequenceNode(SEQ, [node(item) for item in value], flow_style=False)
        return yaml.MappingNode(MAP, [(node(key), node(item)) for key, item in value.items()], flow_style=False)

    return node(data)
