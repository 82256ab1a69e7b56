"""load_yaml and dump_yaml handle plain documents themselves: results, shared objects and errors are PyYAML's own."""

import datetime

import pytest
import yaml

from lava_common.yaml_loader import Dumper, Loader, YAMLLoadError, dump_yaml, load_yaml

DOCUMENTS = [
    "device_type: qemu\njob_name: a\nactions:\n- boot: {method: minimal, prompts: ['# ']}\n",
    "a: 1\nb: -2.5e3\nc: .inf\nd: .nan\ne: true\nf: ~\ng: 0x1F\nh: 0o17\ni: 1_000\nj: '007'\n",
    "when: 2026-01-02 03:04:05\nday: 2026-01-02\nblob: !!binary aGVsbG8=\n",
    "1: int key\ntrue: bool key\n~: null key\n2.5: float key\n",
    "base: &base {a: 1, b: 2}\nmerged:\n  <<: *base\n  b: 3\n",
    "set: !!set {a, b}\nomap: !!omap [{a: 1}, {b: 2}]\npairs: !!pairs [{a: 1}, {a: 2}]\n",
    "= : value key\nexplicit: !!str 12\nlist: !!seq [1]\nmap: !!map {a: 1}\n",
    "",
    "just a string\n",
    "[1, [2, [3, {x: y}]]]\n",
    "dup: 1\ndup: 2\n",
]

ERRORS = [
    "? [a, b]\n: unhashable key\n",
    "? {a: 1}\n: unhashable key\n",
    "x: !!python/object:os.system ls\n",
    "x: !custom tag\n",
    "x: !!str {a: 1}\n",
    "x: !!int notanumber\n",
    "x: !!float nope\n",
    "x: !!timestamp not-a-date\n",
    "x: *undefined\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_same_result_as_pyyaml(text):
    expected = yaml.load(text, Loader=Loader)
    got = load_yaml(text)
    if expected != expected:  # pragma: no cover - NaN at the top: never here
        return
    assert repr(got) == repr(expected)
    assert type(got) is type(expected)


def test_aliases_share_one_object_as_with_pyyaml():
    data = load_yaml("a: &x [1, {b: 2}]\nb: *x\nc: &y {k: v}\nd: [*y, *y]\n")
    assert data["a"] is data["b"]
    assert data["d"][0] is data["d"][1] is data["c"]


def test_scalars_keep_their_types():
    data = load_yaml("when: 2026-01-02 03:04:05\nblob: !!binary aGVsbG8=\nn: 3\nf: 1.5\nt: yes\n")
    assert data == {"when": datetime.datetime(2026, 1, 2, 3, 4, 5), "blob": b"hello", "n": 3, "f": 1.5, "t": True}


@pytest.mark.parametrize("text", ERRORS)
def test_same_errors_as_pyyaml(text):
    with pytest.raises(Exception) as pyyaml:
        yaml.load(text, Loader=Loader)
    if isinstance(pyyaml.value, yaml.YAMLError):
        with pytest.raises(YAMLLoadError) as ours:
            load_yaml(text)
        assert str(pyyaml.value.problem) in str(ours.value)
    else:  # a scalar PyYAML's constructor cannot convert: its own exception (the schema layer words it)
        with pytest.raises(type(pyyaml.value)) as ours:
            load_yaml(text)
        assert str(ours.value) == str(pyyaml.value)


SHARED = [1, 2]
DUMPED = [
    {"device_type": "qemu", "actions": [{"boot": {"method": "minimal", "prompts": ["# ", "$ "]}}], "n": 3},
    {"t": True, "f": False, "none": None, "empty": {}, "nothing": [], "big": 10**30, "neg": -1},
    {"yes": "yes", "colon": "a: b", "lines": "a\nb\n", "unicode": "ünïcode", "num": "007", "": "empty key"},
    {2: "int key", None: "null key", True: "bool key"},
    {"float": 1.5, "inf": float("inf"), "date": datetime.date(2026, 1, 2), "bytes": b"\x00"},  # PyYAML's own path
    {"a": SHARED, "b": SHARED},  # an anchor and an alias
    ["top", "level", "list"],
    "a plain string",
    None,
]


@pytest.mark.parametrize("data", DUMPED)
def test_dump_is_pyyamls(data):
    expected = yaml.dump(data, Dumper=Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True)
    assert dump_yaml(data) == expected


def test_remembered_tags_give_pyyaml_results_on_later_documents(monkeypatch):
    from lava_common import plain_yaml, yaml_loader

    monkeypatch.setattr(plain_yaml, "REMEMBERED_MAX_ENTRIES", 8)
    monkeypatch.setattr(yaml_loader, "_resolved", {})
    text = "a: 5\nb: '5'\nc: yes\nd: 'yes'\ne: [5, '5', null, 'null', ~]\nf: " + "x" * 100 + "\n"
    for _ in range(3):  # the second and third parses answer from what the first remembered
        assert repr(load_yaml(text)) == repr(yaml.load(text, Loader=Loader))
    assert len(yaml_loader._resolved) <= 8
    assert "x" * 100 not in yaml_loader._resolved


def test_pyyaml_pure_reader_still_refuses_non_printable_characters():
    # its pattern is compiled on first use (yaml_loader), not when PyYAML is imported
    with pytest.raises(yaml.YAMLError, match="special characters are not allowed"):
        yaml.load("a: \x07\n", Loader=yaml.SafeLoader)
    assert yaml.reader.Reader.NON_PRINTABLE.search("ok\x01") is not None
