"""Rendering mechanics: precedence, sandbox, lookup order, caching and clear errors."""

import time
from pathlib import Path

import pytest

from lava_scheduler.device_config import (
    DeviceConfigError,
    device_type_of_dictionary,
    list_device_types,
    render_device_config,
    render_device_yaml,
    template_exists,
)
from lava_scheduler.device_config.environment import environment_for

REPO = Path(__file__).resolve().parents[2]
DEVICE_TYPES = [REPO / "device-types"]
QEMU_1024 = "{% extends 'qemu.jinja2' %}\n{% set memory = 1024 %}\n"
MINIMAL_TYPE = """constants: {}
parameters: {}
actions: {deploy: {methods: {tftp: }}, boot: {methods: {u-boot: }}}
timeouts: {}
"""


def render(text: str, context: dict | None = None, **kwargs) -> dict:
    kwargs.setdefault("device_types_paths", DEVICE_TYPES)
    return render_device_config("dut-01", text, context, **kwargs)


def memory_option(config: dict) -> str:
    options = config["actions"]["boot"]["methods"]["qemu"]["parameters"]["options"]
    return next(option for option in options if option.startswith("-m "))


def test_dictionary_value_beats_job_context() -> None:
    assert memory_option(render(QEMU_1024, {"memory": 2048})) == "-m 1024"


def test_job_context_applies_where_dictionary_is_silent() -> None:
    config = render(QEMU_1024, {"memory": 2048, "arch": "arm64"})
    assert config["actions"]["boot"]["methods"]["qemu"]["parameters"]["command"] == "qemu-system-aarch64"
    assert memory_option(render("{% extends 'qemu.jinja2' %}", {"memory": 2048})) == "-m 2048"
    assert memory_option(render("{% extends 'qemu.jinja2' %}")) == "-m 512"


def test_scheduled_names_cannot_be_spoofed_by_the_job() -> None:
    config = render(QEMU_1024, {"scheduled_device_name": "other", "scheduled_device_type": "x"})
    assert (config["hostname"], config["devicetype"]) == ("dut-01", "qemu")


@pytest.mark.parametrize(
    "trick",
    [
        "{% set memory = ''.__class__.__mro__[1].__subclasses__() %}",
        "{{ ''.__class__.__mro__ }}",
        "{% set memory = ''.__class__ %}",
        "{% set memory = cycler.__init__.__globals__ %}",
        "{% set memory = ''.format.__globals__ %}",
        "{% set memory = ''['__class__'] %}",
        "{% set memory = '' | attr('__class__') %}",
        "{% set memory = range.__self__ %}",
    ],
)
def test_sandbox_refuses_python_internals(trick: str) -> None:
    text = "{% extends 'qemu.jinja2' %}\n" + trick + "\n"
    with pytest.raises(DeviceConfigError, match="sandbox|unsafe|undefined") as err:
        render(text)
    assert "dut-01" in str(err.value)


def test_sandbox_error_names_the_dictionary_line() -> None:
    text = "{% extends 'qemu.jinja2' %}\n{% set a = 1 %}\n{% set memory = ''.__class__ %}\n"
    with pytest.raises(DeviceConfigError, match="line 3: access to '__class__' refused by the sandbox"):
        render(text)
    # names built at run time get past the static check: the sandbox itself stops them
    text = "{% extends 'qemu.jinja2' %}\n{% set a = '__cla' ~ 'ss__' %}\n{% set memory = '' | attr(a) %}\n"
    with pytest.raises(DeviceConfigError, match="the dictionary line 3: refused by the sandbox"):
        render(text)


def test_device_type_of_dictionary() -> None:
    assert device_type_of_dictionary("{% extends 'qemu.jinja2' %}\n{% set x = 1 %}") == "qemu"
    assert device_type_of_dictionary('{% extends "docker.jinja2" %}') == "docker"
    assert device_type_of_dictionary("{# c #}\n{%- extends 'a-b_c.jinja2' -%}") == "a-b_c"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% set x = 1 %}", "no {% extends"),
        ("{% extends 'a.jinja2' %}{% extends 'b.jinja2' %}", "2 {% extends %} lines"),
        ("{% extends name %}", "must be a quoted name"),
        ("{% extends 'qemu' %}", "expected '<type>.jinja2'"),
        ("{% extends '../etc/passwd.jinja2' %}", "expected '<type>.jinja2'"),
        ("{% extends 'qemu.jinja2' %}\n{% set x = %}", "line 2: template syntax error"),
    ],
)
def test_bad_dictionaries_are_named_errors(text: str, message: str) -> None:
    with pytest.raises(DeviceConfigError, match="device 'dut-01'") as err:
        render(text)
    assert message in str(err.value)


def test_unknown_device_type_names_type_and_folders() -> None:
    with pytest.raises(DeviceConfigError) as err:
        render("{% extends 'no-such-board.jinja2' %}")
    message = str(err.value)
    assert "unknown device type 'no-such-board'" in message
    assert f"no no-such-board.jinja2 in {DEVICE_TYPES[0]}" in message


def test_runtime_error_in_dictionary_is_clean() -> None:
    with pytest.raises(DeviceConfigError, match="rendering failed"):
        render("{% extends 'qemu.jinja2' %}\n{% set memory = 1 // 0 %}\n")


def test_job_context_must_be_a_mapping() -> None:
    with pytest.raises(DeviceConfigError, match="job context must be a mapping"):
        render(QEMU_1024, ["memory"])  # type: ignore[arg-type]


def test_dictionary_read_from_devices_folder(tmp_path: Path) -> None:
    devices = tmp_path / "devices"
    devices.mkdir()
    (devices / "qemu-07.jinja2").write_text(QEMU_1024)
    config = render_device_config("qemu-07", devices_path=devices, device_types_paths=DEVICE_TYPES)
    assert memory_option(config) == "-m 1024"
    with pytest.raises(DeviceConfigError, match="no device dictionary"):
        render_device_config("qemu-08", devices_path=devices, device_types_paths=DEVICE_TYPES)
    with pytest.raises(DeviceConfigError, match="not a valid device name"):
        render_device_config("../devices/qemu-07", devices_path=devices, device_types_paths=DEVICE_TYPES)
    with pytest.raises(DeviceConfigError, match="no devices folder"):
        render_device_config("qemu-07", device_types_paths=DEVICE_TYPES)


def test_search_order_devices_then_type_folders(tmp_path: Path) -> None:
    first, second, devices = tmp_path / "first", tmp_path / "second", tmp_path / "devices"
    for folder in (first, second, devices):
        folder.mkdir()
    (first / "board.jinja2").write_text("{% set origin = 'first' %}" + MINIMAL_TYPE + "origin: {{ origin }}\n")
    (second / "board.jinja2").write_text(MINIMAL_TYPE + "origin: second\n")
    (second / "other.jinja2").write_text(MINIMAL_TYPE)
    text = "{% extends 'board.jinja2' %}"
    assert render(text, device_types_paths=[first, second])["origin"] == "first"
    assert render(text, device_types_paths=[second, first])["origin"] == "second"
    (devices / "board.jinja2").write_text(MINIMAL_TYPE + "origin: devices\n")
    assert render(text, devices_path=devices, device_types_paths=[first, second])["origin"] == "devices"
    assert list_device_types([first, second]) == ["board", "other"]
    assert template_exists("other", [first, second]) and template_exists("other.jinja2", [second])
    assert not template_exists("other", [first]) and not template_exists("../second/other", [first])


def test_rendered_yaml_errors_quote_the_line(tmp_path: Path) -> None:
    (tmp_path / "broken.jinja2").write_text(MINIMAL_TYPE + "key: [unclosed\n")
    with pytest.raises(DeviceConfigError, match="not valid YAML"):
        render("{% extends 'broken.jinja2' %}", device_types_paths=[tmp_path])


def test_schema_errors_are_listed_with_paths(tmp_path: Path) -> None:
    (tmp_path / "bad.jinja2").write_text("parameters: {}\nactions: {deploy: {}, boot: {methods: {}}}\n"
                                         "timeouts: {}\ncommands: {power_on: 3}\n")
    with pytest.raises(DeviceConfigError) as err:
        render("{% extends 'bad.jinja2' %}", device_types_paths=[tmp_path])
    assert "constants: required key missing" in err.value.errors
    assert "actions.deploy.methods: required key missing" in err.value.errors
    assert "commands.power_on: expected a string or a list of strings" in err.value.errors
    assert "device 'dut-01' (type 'bad'): invalid rendered configuration" in str(err.value)


def test_missing_parent_template_is_named(tmp_path: Path) -> None:
    (tmp_path / "orphan.jinja2").write_text("{% extends 'base-missing.jinja2' %}")
    with pytest.raises(DeviceConfigError, match="template 'base-missing.jinja2' not found"):
        render("{% extends 'orphan.jinja2' %}", device_types_paths=[tmp_path])


def test_syntax_error_in_type_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "typo.jinja2").write_text(MINIMAL_TYPE + "{% if %}\n")
    with pytest.raises(DeviceConfigError, match=r"typo.jinja2 line 5: template syntax error"):
        render("{% extends 'typo.jinja2' %}", device_types_paths=[tmp_path])


def test_render_device_yaml_returns_the_checked_text() -> None:
    text = render_device_yaml("dut-01", QEMU_1024, {"arch": "arm64"}, device_types_paths=DEVICE_TYPES)
    assert text.startswith('hostname: "dut-01"')
    assert '"-m 1024"' in text


def test_environment_is_cached_per_search_path() -> None:
    assert environment_for(("a", "b")) is environment_for(("a", "b"))
    assert environment_for(("a", "b")) is not environment_for(("b", "a"))


def test_template_edits_are_seen_without_restart(tmp_path: Path) -> None:
    template = tmp_path / "live.jinja2"
    template.write_text(MINIMAL_TYPE + "version: 1\n")
    assert render("{% extends 'live.jinja2' %}", device_types_paths=[tmp_path])["version"] == 1
    template.write_text(MINIMAL_TYPE + "version: 2\n")
    stat = template.stat()
    # make sure the mtime moves even on coarse-grained filesystems
    import os
    os.utime(template, (stat.st_atime, stat.st_mtime + 5))
    assert render("{% extends 'live.jinja2' %}", device_types_paths=[tmp_path])["version"] == 2


def test_render_time_per_device() -> None:
    text = "{% extends 'beaglebone-black.jinja2' %}\n{% set connection_command = 'telnet s 7001' %}\n"
    render(text)
    count = 200
    start = time.perf_counter()
    for _ in range(count):
        render(text, {"extra_kernel_args": "quiet"})
    per_device = (time.perf_counter() - start) / count
    print(f"render+parse+validate: {per_device * 1000:.2f} ms per device")
    assert per_device < 0.05


def test_package_never_imports_django() -> None:
    import subprocess
    import sys

    code = ("import sys, lava_scheduler.device_config, lava_common.schemas.device; "
            "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr or "django was imported"


def test_each_caller_gets_its_own_copy() -> None:
    first = render(QEMU_1024)
    first["actions"]["boot"]["methods"].clear()
    second = render(QEMU_1024)
    assert "qemu" in second["actions"]["boot"]["methods"]
