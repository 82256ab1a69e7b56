"""A tiny declarative schema engine, built for speed and for messages people can act on.

Schemas are trees of ``Node`` objects. ``node.check(value, path, ctx)`` appends every
problem it finds to ``ctx.errors`` instead of raising, so one pass reports all of
them; ``node.json_schema(defs)`` renders the same declaration as JSON Schema, so the
published schema cannot drift from what we enforce.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar


class SchemaIssue(NamedTuple):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class JobSchemaError(ValueError):
    """The definition is not acceptable; ``errors`` lists every problem with its path."""

    def __init__(self, errors: Iterable[SchemaIssue]) -> None:
        self.errors: list[SchemaIssue] = list(errors)
        super().__init__("\n".join(str(issue) for issue in self.errors))


class Context:
    """State of one validation run: collected errors and warnings, and the mode.

    ``refuse_long_timeouts``: the server refuses a timeout longer than the
    job's; lava-run only warns about it (in its own validate phase), as the
    reference does.
    """

    __slots__ = ("errors", "warnings", "strict", "context_names", "refuse_long_timeouts")

    def __init__(self, strict: bool = False, context_names: frozenset[str] = frozenset(),
                 refuse_long_timeouts: bool = True) -> None:
        self.errors: list[SchemaIssue] = []
        self.warnings: list[SchemaIssue] = []
        self.strict = strict
        self.context_names = context_names
        self.refuse_long_timeouts = refuse_long_timeouts

    def error(self, path: str, message: str) -> None:
        self.errors.append(SchemaIssue(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(SchemaIssue(path, message))


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


_KEY_TEXT: dict[str, str] = {}  # memo: the same few hundred key names come back in every job


def child(path: str, key: Any) -> str:
    """Path of a mapping entry: ``a.b``; odd keys are quoted so the path stays unambiguous."""
    if type(key) is str:
        name = _KEY_TEXT.get(key)
        if name is None:
            name = key if _PLAIN_KEY.match(key) else show(key)
            if len(_KEY_TEXT) < 10_000:
                _KEY_TEXT[key] = name
    else:
        name = show(key)
    return f"{path}.{name}" if path else name


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


_TYPE_NAMES = {str: "string", int: "int", bool: "bool", float: "float", dict: "mapping", list: "list"}


def kind(value: Any) -> str:
    """What the user wrote, in YAML terms."""
    if value is None:
        return "null"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def show(value: Any, limit: int = 60) -> str:
    """A short, safe rendering of a user value for messages (huge ints, long strings...)."""
    try:
        text = repr(value)
    except ValueError:  # int too large to print
        return "<a very large number>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def words(names: Iterable[Any]) -> str:
    return ", ".join(str(name) for name in names)


NodeT = TypeVar("NodeT", bound="Node")


class Node:
    """Base class: accepts anything."""

    description = "any value"

    def check(self, value: Any, path: str, ctx: Context) -> None:
        return None

    def accepts_type(self, value: Any) -> bool:
        """Cheap test used by AnyOf to pick the alternative whose errors are worth showing."""
        return True

    # shared fragments get a name and are published once under $defs
    json_name: str | None = None

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        name = self.json_name
        if name is None:
            return self._json(defs)
        if name not in defs:
            defs[name] = {}  # placeholder first: a fragment may refer to itself
            defs[name] = self._json(defs)
        return {"$ref": f"#/$defs/{name}"}

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {}


def named(name: str, node: NodeT) -> NodeT:
    """Publish ``node`` under ``$defs/name`` in JSON Schema instead of repeating it."""
    node.json_name = name
    return node


def render_json_schema(root: Node) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    schema = root._json(defs)
    if defs:
        schema["$defs"] = defs
    return schema


class Str(Node):
    def __init__(self, min_len: int = 0, max_len: int | None = None, pattern: str | None = None,
                 pattern_help: str = "") -> None:
        self.min_len = min_len
        self.max_len = max_len
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_help = pattern_help or (f"must match {pattern}" if pattern else "")
        self.description = "a string"

    def accepts_type(self, value: Any) -> bool:
        return type(value) is str

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if type(value) is not str:
            ctx.error(path, f"expected a string, got {kind(value)}")
        elif len(value) < self.min_len:
            ctx.error(path, "must not be empty" if self.min_len == 1 else f"must be at least {self.min_len} characters")
        elif self.max_len is not None and len(value) > self.max_len:
            ctx.error(path, f"must be at most {self.max_len} characters, got {len(value)}")
        elif self.pattern is not None and not self.pattern.match(value):
            ctx.error(path, f"{self.pattern_help}, got {show(value)}")

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.min_len:
            schema["minLength"] = self.min_len
        if self.max_len is not None:
            schema["maxLength"] = self.max_len
        if self.pattern is not None:
            schema["pattern"] = self.pattern.pattern
        return schema


class Int(Node):
    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min = min
        self.max = max
        if min is not None and max is not None:
            self.description = f"an integer {min}..{max}"
        elif min is not None:
            self.description = f"an integer >= {min}"
        else:
            self.description = "an integer"

    def accepts_type(self, value: Any) -> bool:
        return type(value) is int

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if type(value) is not int or (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            got = kind(value) if type(value) is not int else show(value)
            ctx.error(path, f"expected {self.description}, got {got}")

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.min is not None:
            schema["minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        return schema


class Bool(Node):
    description = "true or false"

    def accepts_type(self, value: Any) -> bool:
        return type(value) is bool

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if type(value) is not bool:
            ctx.error(path, f"expected true or false, got {show(value)}")

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}


class Enum(Node):
    """One of a fixed set of strings. ``label`` names the set in messages ("boot method").

    ``soft`` sets tolerate other strings outside strict mode, for lists the
    reference never enforced (so existing jobs keep validating).
    """

    def __init__(self, values: Iterable[str], label: str = "value", soft: bool = False) -> None:
        self.values = tuple(values)
        self.allowed = frozenset(self.values)
        self.label = label
        self.soft = soft
        self.description = "one of " + words(self.values)

    def accepts_type(self, value: Any) -> bool:
        return type(value) is str

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if type(value) is not str:
            ctx.error(path, f"expected a string ({self.description}), got {kind(value)}")
        elif value not in self.allowed:
            if ctx.strict or not self.soft:
                ctx.error(path, f"unknown {self.label} {show(value)}; known: {words(self.values)}")
            else:
                ctx.warn(path, f"unknown {self.label} {show(value)}, accepted; known: {words(self.values)}")

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        if self.soft:
            return {"type": "string", "examples": list(self.values)}
        return {"enum": list(self.values)}


class Const(Enum):
    def __init__(self, value: str) -> None:
        super().__init__((value,))

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if value != self.values[0] or type(value) is not str:
            ctx.error(path, f"must be {self.values[0]!r}, got {show(value)}")


class List(Node):
    def __init__(self, items: Node, min_len: int = 0, unique: bool = False) -> None:
        self.items = items
        self.min_len = min_len
        self.unique = unique
        self.description = "a list"

    def accepts_type(self, value: Any) -> bool:
        return type(value) is list

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if type(value) is not list:
            ctx.error(path, f"expected a list, got {kind(value)}")
            return
        if len(value) < self.min_len:
            ctx.error(path, "must not be empty" if self.min_len == 1 else f"needs at least {self.min_len} items")
        check = self.items.check
        for index, entry in enumerate(value):
            check(entry, f"{path}[{index}]", ctx)

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.items.json_schema(defs)}
        if self.min_len:
            schema["minItems"] = self.min_len
        return schema


ALLOW, FORBID, STRICT = "allow", "forbid", "strict"


class Dict(Node):
    """A mapping with known keys.

    ``extra``: ALLOW tolerates unknown keys, FORBID refuses them, STRICT refuses
    them in strict mode and otherwise accepts them with a warning (the
    reference's non-strict mode accepts them silently; a warning still shows
    a typo). ``values`` makes it a free mapping of string keys whose values
    all follow one schema. ``checks`` run after the keys, for rules that tie
    several keys together.
    """

    def __init__(
        self,
        required: dict[str, Node] | None = None,
        optional: dict[str, Node] | None = None,
        extra: str = STRICT,
        values: Node | None = None,
        checks: Iterable[Callable[[dict, str, Context], None]] = (),
        description: str = "a mapping",
    ) -> None:
        self.required = dict(required or {})
        self.optional = dict(optional or {})
        self.fields = {**self.required, **self.optional}
        self.extra = extra
        self.values = values
        self.checks = tuple(checks)
        self.description = description

    def extend(self, required: dict[str, Node] | None = None, optional: dict[str, Node] | None = None,
               **kwargs: Any) -> "Dict":
        """A copy with more keys: how action schemas build on the shared fragments."""
        return Dict(
            {**self.required, **(required or {})},
            {**self.optional, **(optional or {})},
            extra=kwargs.get("extra", self.extra),
            values=kwargs.get("values", self.values),
            checks=self.checks + tuple(kwargs.get("checks", ())),
            description=kwargs.get("description", self.description),
        )

    def accepts_type(self, value: Any) -> bool:
        return type(value) is dict

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if type(value) is not dict:
            ctx.error(path, f"expected {self.description}, got {kind(value)}")
            return
        fields = self.fields
        forbid = self.extra == FORBID or (self.extra == STRICT and ctx.strict)
        for key, entry in value.items():
            node = fields.get(key) if type(key) is str else None
            if node is not None:
                # declared keys are plain names: no quoting needed
                node.check(entry, f"{path}.{key}" if path else key, ctx)
            elif self.values is not None:
                if type(key) is not str:
                    ctx.error(child(path, key), f"keys must be strings, got {kind(key)}")
                else:
                    self.values.check(entry, child(path, key), ctx)
            elif forbid:
                ctx.error(child(path, key), self.unknown_key_message(key))
            elif self.extra == STRICT:
                ctx.warn(child(path, key), self.unknown_key_message(key) + " (ignored)")
        for key in self.required:
            if key not in value:
                ctx.error(child(path, key), "required key missing")
        for rule in self.checks:
            rule(value, path, ctx)

    def unknown_key_message(self, key: Any) -> str:
        if type(key) is str:
            import difflib  # deferred: only a mistyped key needs it, and its import is 1 ms of lava-run's start-up

            close = difflib.get_close_matches(key, self.fields, n=1)
            if close:
                return f"unknown key; did you mean {close[0]!r}?"
        if 0 < len(self.fields) <= 12:
            return f"unknown key; expected one of {words(self.fields)}"
        return "unknown key"

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object"}
        if self.fields:
            schema["properties"] = {key: node.json_schema(defs) for key, node in self.fields.items()}
        if self.required:
            schema["required"] = list(self.required)
        if self.values is not None:
            schema["additionalProperties"] = self.values.json_schema(defs)
        elif self.extra == FORBID:
            schema["additionalProperties"] = False
        return schema


def Map(values: Node, description: str = "a mapping") -> Dict:
    """A free mapping: any string keys, values following ``values``."""
    return Dict(values=values, description=description)


class AnyOf(Node):
    """The first alternative that accepts the value wins.

    When none does, the errors of the alternative made for this type of value
    are shown (a mapping's key errors are more useful than "not a string");
    with no such alternative, one summary message.
    """

    def __init__(self, *alternatives: Node, description: str = "") -> None:
        self.alternatives = alternatives
        self.description = description or " or ".join(alt.description for alt in alternatives)

    def accepts_type(self, value: Any) -> bool:
        return any(alt.accepts_type(value) for alt in self.alternatives)

    def check(self, value: Any, path: str, ctx: Context) -> None:
        candidates = [alt for alt in self.alternatives if alt.accepts_type(value)]
        if not candidates:
            ctx.error(path, f"expected {self.description}, got {kind(value)}")
            return
        first_errors: list[SchemaIssue] | None = None
        saved, saved_warnings = ctx.errors, ctx.warnings
        for alt in candidates:
            ctx.errors, ctx.warnings = [], []
            alt.check(value, path, ctx)
            errors, warnings = ctx.errors, ctx.warnings
            ctx.errors, ctx.warnings = saved, saved_warnings
            if not errors:
                saved_warnings.extend(warnings)  # only the alternative that matched speaks
                return
            if first_errors is None:
                first_errors = errors
        saved.extend(first_errors or ())

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"anyOf": [alt.json_schema(defs) for alt in self.alternatives]}


class Custom(Node):
    """A rule written as a function, with its JSON Schema given by hand."""

    def __init__(self, rule: Callable[[Any, str, Context], None],
                 json: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 description: str = "a value", accepts: Callable[[Any], bool] | None = None) -> None:
        self.rule = rule
        self.json = json or {}
        self.description = description
        self.accepts = accepts

    def accepts_type(self, value: Any) -> bool:
        return self.accepts(value) if self.accepts else True

    def check(self, value: Any, path: str, ctx: Context) -> None:
        self.rule(value, path, ctx)

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        return self.json(defs) if callable(self.json) else dict(self.json)


class Tagged(Node):
    """A mapping whose schema is chosen by the value of one key (deploy ``to``, boot ``method``).

    ``registry`` is a plain dict so callers (the dispatcher) can list what is known.
    """

    def __init__(self, key: str, registry: dict[str, Node], label: str) -> None:
        self.key = key
        self.registry = registry
        self.label = label
        self.description = "a mapping"

    def accepts_type(self, value: Any) -> bool:
        return type(value) is dict

    def check(self, value: Any, path: str, ctx: Context) -> None:
        if type(value) is not dict:
            ctx.error(path, f"expected a mapping, got {kind(value)}")
            return
        if self.key not in value:
            ctx.error(child(path, self.key), "required key missing")
            return
        tag = value[self.key]
        if type(tag) is not str:
            ctx.error(child(path, self.key), f"expected a string, got {kind(tag)}")
            return
        node = self.registry.get(tag)
        if node is None:
            ctx.error(child(path, self.key), f"unknown {self.label} {show(tag)}; known: {words(sorted(self.registry))}")
            return
        node.check(value, path, ctx)

    def _json(self, defs: dict[str, Any]) -> dict[str, Any]:
        branches = []
        for tag, node in sorted(self.registry.items()):
            branches.append({"if": {"properties": {self.key: {"const": tag}}, "required": [self.key]},
                             "then": node.json_schema(defs)})
        return {
            "type": "object",
            "required": [self.key],
            "properties": {self.key: {"enum": sorted(self.registry)}},
            "allOf": branches,
        }
