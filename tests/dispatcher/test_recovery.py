"""``deploy: to: recovery`` and ``boot: method: recovery``: images kept for the job, the board switched
into and out of its recovery mode by the dictionary's commands (here, commands that leave a trace)."""

from pathlib import Path

import yaml

from lava_scheduler.device_config import render_device_config

from .helpers import REPO, job_result, run_lava


def device(tmp_path: Path, commands: bool = True) -> Path:
    trace = tmp_path / "trace"
    dictionary = "{% extends 'hi6220-hikey-bl.jinja2' %}\n{% set connection_command = 'telnet localhost 7000' %}\n"
    if commands:
        dictionary += (f"{{% set recovery_mode_command = 'echo into >> {trace}' %}}\n"
                       f"{{% set recovery_exit_command = 'echo out >> {trace}' %}}\n")
    path = tmp_path / "device.yaml"
    config = render_device_config("hikey-01", dictionary, None, device_types_paths=[REPO / "device-types"])
    path.write_text(yaml.safe_dump(config))
    return path


def job(image: Path) -> dict:
    return {
        "job_name": "recovery", "device_type": "hi6220-hikey-bl", "visibility": "public",
        "timeouts": {"job": {"minutes": 2}, "action": {"minutes": 1}},
        "actions": [
            {"deploy": {"to": "recovery", "images": {"fip": {"url": f"file://{image}"}}}},
            {"boot": {"method": "recovery", "commands": "recovery"}},
            {"boot": {"method": "recovery", "commands": "exit"}},
        ],
    }


def test_the_board_goes_into_and_out_of_recovery_with_the_images_kept(tmp_path):
    image = tmp_path / "fip.bin"
    image.write_bytes(b"firmware")
    proc, records, _ = run_lava(tmp_path, job(image), device(tmp_path))
    assert job_result(records)["result"] == "pass", proc.stderr[-2000:]
    assert (tmp_path / "trace").read_text() == "into\nout\n"


def test_a_device_without_recovery_commands_is_refused_at_validation(tmp_path):
    image = tmp_path / "fip.bin"
    image.write_bytes(b"firmware")
    proc, records, _ = run_lava(tmp_path, job(image), device(tmp_path, commands=False), "--validate")
    assert proc.returncode != 0
    assert "the device has no recovery_mode command (recovery_mode_command in its dictionary)" in \
        job_result(records)["error_msg"]
