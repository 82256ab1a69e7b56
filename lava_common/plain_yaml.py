"""A quick reader for the plain block YAML that nearly every job definition is written in.

libyaml through PyYAML builds a node object with two position marks for
every scalar and calls back into Python for each one's tag: for a job
definition of sixty lines that is most of a ``jobs.validate`` call. The
documents people write are a narrow part of YAML: block mappings and
sequences, one-line plain or quoted scalars, short flow lists of scalars,
comments. ``read_plain`` reads exactly that part, line by line, and answers
``NOT_PLAIN`` as soon as it meets anything else (block scalars, anchors,
tags, flow mappings, multi-line scalars, tabs, non-ASCII text, anything
doubtful or wrong): the caller then parses the text with libyaml, which
gives the result, or the error, as before. Where it answers, the value is the
one libyaml's safe loader builds (tests compare both on the corpus and on
generated documents); plain scalars get their type from PyYAML's own
resolver and constructors.
"""

import re
from typing import Any

NOT_PLAIN: Any = object()  # the text is outside the part read here: parse it with libyaml

# characters YAML does not allow unescaped (C0 controls but the line feed, DEL)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
# "key:" or "key: value"; other keys (quoted, with spaces or YAML indicators) go to libyaml
_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-/]*):(?: +(.*))?\Z")
# a one-line quoted scalar and an optional comment; escapes and multi-line quotes go to libyaml
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"(?: +#.*)? *\Z')
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'(?: +#.*)? *\Z")
# a flow list of scalars on one line, e.g. ["root@debian:", "# "] or [a, b]
_FLOW_LIST = re.compile(r"\[([^\[\]{}]*)\](?: +#.*)? *\Z")
_FLOW_ITEM = re.compile(r""" *(?:"([^"\\]*)"|'((?:[^']|'')*)'|([A-Za-z0-9_./][^,'"#:]*?)) *(?:,|\Z)""")
# first characters of a plain scalar that YAML gives another meaning (or reserves)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


# short texts whose value or written form is remembered between documents (job definitions repeat
# the same words); a full table is emptied, so a stream of distinct texts takes bounded memory
REMEMBERED_MAX_LENGTH = 64
REMEMBERED_MAX_ENTRIES = 4096


def remember(table: dict[str, Any], text: str, value: Any) -> Any:
    """``value``, kept in ``table`` under ``text`` when the text is short enough."""
    if len(text) <= REMEMBERED_MAX_LENGTH:
        if len(table) >= REMEMBERED_MAX_ENTRIES:
            table.clear()
        table[text] = value
    return value


class _NotPlain(Exception):
    pass


# a content line: its indentation, its text without trailing spaces (blank and comment lines left out)
_LINE = re.compile(r"^( *)([^ #\n](?:[^\n]*[^ \n])?) *$", re.MULTILINE)
_END = (-1, "", False)  # after the last line: less indented than anything


class _Reader:
    def __init__(self, lines: list[tuple[int, str, bool]], scalar, max_depth: int) -> None:
        self.lines, self.scalar, self.max_depth = lines, scalar, max_depth
        self.nodes = 0

    def block(self, index: int, depth: int) -> tuple[Any, int]:
        """The collection whose first line is ``index``; the index after it."""
        indent, text, item = self.lines[index]
        if item:
            return self.sequence(index, indent, depth)
        return self.mapping(index, indent, text, depth)

    def nested(self, index: int, indent: int, depth: int) -> tuple[Any, int]:
        """The value of an entry with nothing after its ``:`` or ``-``: what is indented deeper, or null."""
        if self.lines[index][0] > indent:
            return self.block(index, depth)
        return None, index

    def sequence(self, index: int, indent: int, depth: int) -> tuple[list, int]:
        if depth > self.max_depth:
            raise _NotPlain  # libyaml's path words the refusal
        lines = self.lines
        items: list[Any] = []
        while True:
            line_indent, text, item = lines[index]
            if line_indent != indent or not item:
                break  # the end, or a key of the mapping this sequence is a value of (its caller checks)
            body = text[1:].lstrip(" ")
            if not body or body[0] == "#":
                value, index = self.nested(index + 1, indent, depth + 1)
            elif _KEY.match(body):
                # "- key: value": a mapping whose keys stand where "key" does
                value, index = self.mapping(index, indent + len(text) - len(body), body, depth + 1)
            else:
                value = self.value(body, depth + 1)
                index += 1
                if lines[index][0] > indent:
                    raise _NotPlain  # a scalar continued on the next line
            items.append(value)
        if lines[index][0] > indent:
            raise _NotPlain
        return items, index

    def mapping(self, index: int, indent: int, text: str, depth: int) -> tuple[dict, int]:
        if depth > self.max_depth:
            raise _NotPlain
        lines, scalar = self.lines, self.scalar
        entries: dict[Any, Any] = {}
        while True:
            match = _KEY.match(text)
            if match is None:
                raise _NotPlain
            key, rest = match.groups()
            if rest and rest[0] != "#":
                value = self.value(rest, depth + 1)
                index += 1
                if lines[index][0] > indent:
                    raise _NotPlain  # a scalar continued on the next line
            else:
                following = lines[index + 1]
                if following[0] == indent and following[2]:
                    # a sequence may stand at its key's own indentation
                    value, index = self.sequence(index + 1, indent, depth + 1)
                elif following[0] > indent:
                    value, index = self.block(index + 1, depth + 1)
                else:
                    value, index = None, index + 1
            entries[scalar(key)] = value
            following_indent, text, item = lines[index]
            if following_indent < indent:
                return entries, index
            if following_indent > indent or item:
                raise _NotPlain  # indented deeper than any open collection, or an item after a key's value

    def value(self, text: str, depth: int) -> Any:
        """A scalar or a flow list written on one line (comment included)."""
        first = text[0]
        if first == '"':
            match = _DOUBLE_QUOTED.match(text)
            if match is None:
                raise _NotPlain
            return match.group(1)
        if first == "'":
            match = _SINGLE_QUOTED.match(text)
            if match is None:
                raise _NotPlain
            return match.group(1).replace("''", "'")
        if first == "[":
            return self.flow_list(text, depth)
        comment = text.find(" #")
        if comment >= 0:
            text = text[:comment].rstrip(" ")
        if first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] != " "):
            raise _NotPlain
        if ": " in text or text[-1] == ":":
            raise _NotPlain  # libyaml refuses it: "mapping values are not allowed here"
        return self.scalar(text)

    def flow_list(self, text: str, depth: int) -> list:
        match = _FLOW_LIST.match(text)
        if match is None or depth > self.max_depth:
            raise _NotPlain
        inside = match.group(1)
        items: list[Any] = []
        if not inside.strip(" "):
            return items
        position = 0
        while position < len(inside):
            item = _FLOW_ITEM.match(inside, position)
            if item is None or item.end() == position:
                raise _NotPlain
            double, single, plain = item.groups()
            if double is not None:
                items.append(double)
            elif single is not None:
                items.append(single.replace("''", "'"))
            else:
                items.append(self.scalar(plain))
            position = item.end()
            if inside[position - 1] == "," and not inside[position:].strip(" "):
                raise _NotPlain  # a trailing comma: libyaml's to judge
        self.nodes += len(items)
        return items


def read_plain(text: str, scalar, max_depth: int, max_nodes: int) -> Any:
    """The document ``text`` holds, or NOT_PLAIN when it is outside the plain block part of YAML.

    ``scalar(text)`` gives a plain scalar's value (PyYAML's resolver and
    constructors, remembered between documents); it raises for anything it cannot give as libyaml would.
    """
    if not text.isascii() or _CONTROL.search(text):
        return NOT_PLAIN
    lines = [(len(match[1]), match[2], match[2] == "-" or match[2][:2] == "- ") for match in _LINE.finditer(text)]
    if "---" in text or "..." in text or "%" in text:
        for position, (indent, content, _) in enumerate(lines):
            if content[:3] in ("---", "...") or content[0] == "%":
                if position or indent or content != "---":
                    return NOT_PLAIN  # directives, markers after the start, several documents
        if lines and lines[0][1] == "---":
            del lines[0]
    # a line holds at most four nodes ("- key: value" may open a list and a map) and flow lists count theirs
    if not lines or 4 * len(lines) > max_nodes:
        return NOT_PLAIN
    lines.append(_END)
    reader = _Reader(lines, scalar, max_depth)
    try:
        value, end = reader.block(0, 1)
    except _NotPlain:
        return NOT_PLAIN
    except Exception:  # a scalar the constructors refuse: libyaml's path says why
        return NOT_PLAIN
    if end != len(lines) - 1 or 4 * len(lines) + reader.nodes > max_nodes:
        return NOT_PLAIN
    return value


# --- writing -------------------------------------------------------------------------------------
# What libyaml's emitter writes for PyYAML's safe representation of maps, lists, ASCII strings,
# integers, booleans and nulls (block style, keys in order): dump_yaml's text, about four times
# faster. None for anything else, or for anything whose layout depends on more of libyaml's rules
# (a string that could be folded at the 80th column, a key longer than 128 characters, shared
# lists or maps, which libyaml writes with anchors).

_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+\Z")
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_BEST_WIDTH = 80
_SIMPLE_KEY_MAX = 128


class _NotWritable(Exception):
    pass


def _block_plain_allowed(text: str) -> bool:
    """libyaml's analysis of a scalar for the plain style in block context (ASCII printable text)."""
    first = text[0]
    if first == " " or text[-1] == " " or first in _FIRST_INDICATORS or text[:3] in ("---", "..."):
        return False
    if first in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    return ": " not in text and text[-1] != ":" and " #" not in text


class _Writer:
    def __init__(self, plain_is_str, known: dict[str, str]) -> None:
        self.plain_is_str, self.known = plain_is_str, known
        self.out: list[str] = []
        self.seen: set[int] = set()

    def scalar(self, value: Any, column: int, key: bool) -> str:
        kind = type(value)
        if kind is str:
            text = self.known.get(value)
            if text is None:
                text = self.string(value)
            if key:
                if len(value) > _SIMPLE_KEY_MAX:
                    raise _NotWritable  # libyaml writes it as a "? " complex key
            elif " " in value and column + len(text) > _BEST_WIDTH:
                raise _NotWritable  # libyaml may fold it at a space
            return text
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        raise _NotWritable

    def string(self, value: str) -> str:
        if not value:
            return "''"
        if not _PRINTABLE_ASCII.match(value):
            raise _NotWritable
        if _block_plain_allowed(value) and self.plain_is_str(value):
            return remember(self.known, value, value)
        return remember(self.known, value, "'" + value.replace("'", "''") + "'")

    def collection(self, value: Any) -> bool:
        """Whether ``value`` is a non-empty map or list (to write as a block)."""
        kind = type(value)
        if kind is not dict and kind is not list:
            return False
        if id(value) in self.seen:
            raise _NotWritable
        self.seen.add(id(value))
        return bool(value)

    def inline(self, value: Any, column: int) -> str:
        """A scalar, or an empty map or list, on its entry's line."""
        kind = type(value)
        if kind is dict:
            return "{}"
        if kind is list:
            return "[]"
        return self.scalar(value, column, False)

    def mapping(self, data: dict, indent: int, lead: str) -> None:
        """The entries at ``indent``; the first one's line starts with ``lead`` (a "- " of a list item)."""
        out, pad = self.out, " " * indent
        for key, value in data.items():
            head = lead + self.scalar(key, indent, True) + ":"
            lead = pad
            if not self.collection(value):
                out.append(f"{head} {self.inline(value, len(head) + 1)}\n")
            elif type(value) is dict:
                out.append(head + "\n")
                self.mapping(value, indent + 2, pad + "  ")
            else:
                out.append(head + "\n")
                self.sequence(value, indent, pad)  # libyaml writes a map's lists unindented

    def sequence(self, items: list, indent: int, lead: str) -> None:
        out, pad = self.out, " " * indent
        for item in items:
            head = lead + "- "
            lead = pad
            if not self.collection(item):
                out.append(f"{head}{self.inline(item, len(head))}\n")
            elif type(item) is dict:
                self.mapping(item, indent + 2, head)
            else:
                self.sequence(item, indent + 2, head)


def write_plain(data: Any, plain_is_str, known: dict[str, str]) -> str | None:
    """``data`` (a non-empty map) as libyaml writes it in block style, or None (see above).

    ``plain_is_str(text)`` tells whether the plain scalar ``text`` reads back as
    a string (not a number, a boolean, a null, a date...); ``known`` remembers
    the written form of short strings between calls.
    """
    writer = _Writer(plain_is_str, known)
    try:
        if not writer.collection(data) or type(data) is not dict:
            return None
        writer.mapping(data, 0, "")
    except _NotWritable:
        return None
    return "".join(writer.out)
