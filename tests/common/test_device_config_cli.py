"""share/render-template.py, run as a user would."""

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "share" / "render-template.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_renders_a_dictionary_file_with_context(tmp_path: Path) -> None:
    dictionary = tmp_path / "qemu-09.jinja2"
    dictionary.write_text("{% extends 'qemu.jinja2' %}\n{% set memory = 1024 %}\n")
    result = run("--device", str(dictionary), "--path", str(REPO / "device-types"),
                 "--context", "arch=arm64", "--context", "extra_options=[-smp 2]")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    params = config["actions"]["boot"]["methods"]["qemu"]["parameters"]
    assert config["hostname"] == "qemu-09"
    assert params["command"] == "qemu-system-aarch64"
    assert "-m 1024" in params["options"] and params["extra"] == ["-smp 2"]


def test_device_name_is_looked_up_in_devices_folder(tmp_path: Path) -> None:
    (tmp_path / "bbb-07.jinja2").write_text("{% extends 'beaglebone-black.jinja2' %}\n")
    result = run("--device", "bbb-07", "--devices", str(tmp_path), "--path", str(REPO / "device-types"))
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["devicetype"] == "beaglebone-black"


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    dictionary = tmp_path / "odd.jinja2"
    dictionary.write_text("{% extends 'no-such-type.jinja2' %}\n")
    result = run("--device", str(dictionary), "--path", str(REPO / "device-types"))
    assert result.returncode == 1
    assert "unknown device type 'no-such-type'" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("--device", str(dictionary), "--context", "novalue")
    assert result.returncode != 0 and "expected KEY=VALUE" in result.stderr
