"""The plain block YAML reader and writer answer only where libyaml gives the very same value or text."""

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lava_common.constants import YAML_MAX_DEPTH, YAML_MAX_NODES
from lava_common.plain_yaml import NOT_PLAIN, read_plain, write_plain
from lava_common.yaml_loader import (
    Dumper,
    Loader,
    YAMLLoadError,
    _plain_is_str,
    _plain_scalar,
    _written,
    dump_yaml,
    load_yaml,
)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"


def read(text: str, max_depth: int = YAML_MAX_DEPTH, max_nodes: int = YAML_MAX_NODES):
    return read_plain(text, _plain_scalar, max_depth, max_nodes)


def identical(a, b) -> bool:
    """Equal with the same types all the way down (1 == True == 1.0 for Python, not for YAML)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(map(type, a)) == list(map(type, b)) and list(a) == list(b) and all(
            identical(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def assert_as_libyaml(text: str) -> bool:
    """True when the reader answered (then with libyaml's value); libyaml's errors never get an answer."""
    got = read(text)
    if got is NOT_PLAIN:
        return False
    assert identical(got, yaml.load(text, Loader=Loader)), text
    return True


PLAIN = [
    "device_type: qemu\njob_name: QEMU pipeline, first job\n",
    "---\nactions:\n- deploy:\n    to: tmpfs\n    images:\n      rootfs: {}\n".replace(" {}", "\n        url: http://x/y.img.gz"),
    "a:\n- 1\n- two\n-\n- - \nb: 3\n".replace("- - \n", "-\n"),
    "prompts: ['root@debian:', \"# \", plain words, 1, 2.5, yes, null]\nempty: []\n",
    "image_arg: -drive format=raw,file={rootfs}  # a comment\nurl: https://a.b/c#anchor\nx: a#b\n",
    "n: 0x1F\no: 0o17\nu: 1_000\nf: .inf\nt: 2026-01-02\nts: 2026-01-02 03:04:05\nnull: ~\nno:\n",
    "1: int key\ntrue: bool key\nk: 'it''s'\nd: \"double\"\n",
    "top:\n  nested:\n    deeper:\n    - a: 1\n      b:\n      - x\n    - c\n  back: here\n",
    "# only a comment first\n\nkey: value   \n  # an indented comment\nother: 2\n",
]

NOT_PLAIN_TEXTS = [
    "",  # nothing: libyaml says None
    "just a scalar\n",
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "a: !!str 1\n",  # tags
    "a: |\n  block\n",  # block scalars
    "a: {b: 1}\n",  # flow mappings
    "a: one\n  continued\n",  # multi-line plain scalar
    'a: "one\n  two"\n',  # multi-line quoted scalar
    'a: "esc\\n"\n',  # escapes
    "a:\tb\n",  # tabs
    "a: b\r\n",  # carriage returns
    "a: caf\u00e9\n",  # non-ASCII
    "a: b: c\n",  # libyaml's error
    "a: b\n- c\n",  # libyaml's error
    "a:\n  b: 1\n c: 2\n",  # libyaml's error (indentation)
    "- a\nb: 1\n",  # libyaml's error
    "a: 1\n---\nb: 2\n",  # several documents
    "%YAML 1.1\n---\na: 1\n",  # directives
    "  ---\n  a: 1\n",  # an indented marker
    "<<: {a: 1}\n",  # merge key
    "a: [1, 2,]\n",  # trailing comma
    "'quoted key': 1\n",
    "a: @reserved\n",
    "a: ok:\n",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_documents_are_read_as_libyaml_reads_them(text):
    assert assert_as_libyaml(text)


@pytest.mark.parametrize("text", NOT_PLAIN_TEXTS)
def test_anything_else_is_left_to_libyaml(text):
    assert read(text) is NOT_PLAIN


def test_load_yaml_gives_the_same_errors_for_what_it_leaves():
    with pytest.raises(YAMLLoadError, match="line 1, column 5: mapping values are not allowed in this context"):
        load_yaml("a: b: c\n")


def test_the_bounds_are_libyamls_path_to_refuse():
    deep = "".join(f"{' ' * level}k{level}:\n" for level in range(YAML_MAX_DEPTH + 2)) + " " * 80 + "x: 1\n"
    assert read(deep) is NOT_PLAIN
    with pytest.raises(YAMLLoadError, match="nesting deeper than"):
        load_yaml(deep)
    many = "".join(f"- [{', '.join(['a'] * 50)}]\n" for _ in range(10))
    assert read(many, max_nodes=400) is NOT_PLAIN
    with pytest.raises(YAMLLoadError, match="more than 400 nodes"):
        load_yaml(many, max_nodes=400)
    assert identical(read(many), yaml.load(many, Loader=Loader))
    items = "- k: v\n" * 10  # 31 nodes: the list, and a map, a key and a value a line
    with pytest.raises(YAMLLoadError, match="more than 30 nodes"):
        load_yaml(items, max_nodes=30)
    assert read(items, max_nodes=30) is NOT_PLAIN


def corpus_files() -> list[Path]:
    mine = sorted((REPO / "share").rglob("*.yaml")) + sorted((REPO / "tests").rglob("*.yaml"))
    return mine + (sorted(CORPUS.rglob("*.yaml")) if CORPUS.is_dir() else [])


def test_every_yaml_file_of_the_project_and_the_corpus():
    answered = 0
    for path in corpus_files():
        answered += assert_as_libyaml(path.read_text(encoding="utf-8", errors="replace"))
    assert answered >= 50, "most definitions are plain block YAML"


KEYS = st.sampled_from(["a", "b", "k1", "device_type", "1", "yes", "null", "x.y", "x-y", "a/b", "0x1F", "2026-01-02"])
VALUES = st.sampled_from([
    "", "word", "two words", "a: b", "a #c", "a#b", "'q''s'", "'unclosed", '"dq"', '"a\\"b"', '"x" y', "[a, b]",
    "[1, 'x', \"y:\"]", "[]", "[a,]", "[a, [b]]", "-x", "- x", "-", "~", "0x1F", "1_000", "1e3", ".5", "2026-01-02",
    "2026-01-02 03:04:05", "&a b", "*a", "!!str x", "|", ">", "{a: 1}", ":x", "%x", "@x", "`x", "?", "---", "...",
    "ok:", "http://x/y", "# comment", "yes", "No", "null", "=", "<<", "a  ", "x # y # z", "1.5.6", "+1", "-1",
])
LINES = st.builds(
    lambda indent, item, key, value: " " * indent + ("- " if item else "") + (f"{key}: " if key else "") + value,
    st.integers(0, 6), st.booleans(), st.one_of(st.none(), KEYS), VALUES,
)


@settings(max_examples=600, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=12), st.booleans())
def test_generated_documents(lines, start_marker):
    text = ("---\n" if start_marker else "") + "\n".join(lines) + "\n"
    got = read(text)
    if got is NOT_PLAIN:
        return
    try:
        expected = yaml.load(text, Loader=Loader)
    except yaml.YAMLError as exc:  # pragma: no cover - the failure the test looks for
        pytest.fail(f"answered {got!r} where libyaml refuses ({exc}):\n{text}")
    assert identical(got, expected), text


def libyaml_text(data) -> str:
    return yaml.dump(data, Dumper=Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True)


def assert_written_as_libyaml(data) -> bool:
    """True when the writer answered (then with libyaml's text)."""
    got = write_plain(data, _plain_is_str, _written)
    if got is None:
        return False
    assert got == libyaml_text(data), data
    return True


def test_every_plain_definition_of_the_project_and_the_corpus_is_written_as_libyaml_writes_it():
    written = 0
    for path in corpus_files():
        try:
            data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=Loader)
        except yaml.YAMLError:
            continue
        written += assert_written_as_libyaml(data)
    assert written >= 50


WRITTEN = [
    {"a": "plain", "b": "", "c": "yes", "d": "123", "e": "x: y", "f": "it's", "g": "'q'", "h": "a #b", "i": "a#b",
     "j": "-x", "k": "- x", "l": "---", "m": "?", "n": "trail ", "o": " lead", "p": "http://a/b?c=d", "q": "[x]"},
    {1: 1, False: True, None: None, "neg": -5, "big": 10**20, "empty list": [], "empty map": {}},
    {"actions": [{"deploy": {"to": "tmpfs", "images": {"rootfs": {"url": "http://x"}}}}, {"boot": {"prompts": ["# "]}}],
     "nested": [[1, [2, {"a": [3]}]], [], {}]},
    {"short words": "word " * 10},
]
NOT_WRITTEN = [
    {"float": 1.5},
    {"date": __import__("datetime").date(2026, 1, 2)},
    {"tab": "a\tb"},
    {"non-ASCII": "caf\u00e9"},
    {"line break": "a\nb"},
    {"long words": "word " * 20},  # libyaml may fold it at the 80th column
    {"k" * 129: "a key longer than 128 characters"},
    ["a list at the top"],
    {},
]


@pytest.mark.parametrize("data", WRITTEN)
def test_plain_data_is_written_as_libyaml_writes_it(data):
    assert assert_written_as_libyaml(data)


@pytest.mark.parametrize("data", NOT_WRITTEN)
def test_anything_else_is_left_to_libyaml_to_write(data):
    assert write_plain(data, _plain_is_str, _written) is None
    assert dump_yaml(data) == libyaml_text(data)


def test_shared_lists_and_maps_keep_libyamls_anchors():
    shared = {"k": "v"}
    data = {"a": shared, "b": [shared]}
    assert write_plain(data, _plain_is_str, _written) is None
    assert dump_yaml(data) == libyaml_text(data) and "&id001" in dump_yaml(data)


SCALARS = st.one_of(st.sampled_from([
    "", "a", "b c", "yes", "No", "123", "1.5", "~", "null", "x: y", "x:", ":x", "-x", "- x", "-", "?", "#x", "a #b",
    "a#b", "'q'", "it's", '"d"', "---", "...", "a,b", "[x]", "{y}", "<<", "=", "@x", "%x", "`x", "!x", "&x", "*x", "|",
    ">", "http://a/b?c=d", " lead", "trail ", "a  b", "x " * 38, "y " * 45, "0x1F", "2026-01-02",
]), st.integers(-10, 10**20), st.booleans(), st.none())
DATA = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(SCALARS), inner, max_size=4)), max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(SCALARS, DATA, min_size=1, max_size=5))
def test_generated_data(data):
    assert_written_as_libyaml(data)
