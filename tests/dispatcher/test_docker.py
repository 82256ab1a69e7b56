"""Docker devices and the docker test action, run for real on a private dockerd.

Each test checks the results, then that no container, image, process, link,
firewall rule or mount was left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import yaml
from coordinator_daemon import Daemon
from testimages import images, require_qemu

from lava_dispatcher.actions.test.docker import board_environment, container_options_for_tests
from lava_dispatcher.device import parse_device
from lava_dispatcher.docker_cli import device_run_options
from lava_scheduler.device_config import render_device_yaml
from lava_scheduler.jobs.multinode import split_multinode

from .docker_fixtures import IMAGE, assert_clean, dockerd, host_state  # noqa: F401 - dockerd is a fixture
from .helpers import CORPUS, HERE, REPO, job_result, parse_stream, results, run_lava, write_dispatcher_config
from .qemu_jobs import inline, qemu_job

DEVICE_TYPES = [REPO / "device-types"]


def docker_device(tmp_path, dictionary: str = "{% extends 'docker.jinja2' %}\n"):
    path = tmp_path / "device.yaml"
    path.write_text(render_device_yaml("docker-01", dictionary, device_types_paths=DEVICE_TYPES))
    return path


def docker_job(image: dict | str, command: str = "sh", definitions: list | None = None, minutes: int = 2) -> dict:
    actions = [
        {"deploy": {"to": "docker", "image": image, "os": "debian"}},
        {"boot": {"method": "docker", "command": command, "prompts": ["/ # "], "timeout": {"minutes": 1}}},
    ]
    if definitions:
        actions.append({"test": {"definitions": definitions, "timeout": {"minutes": 1}}})
    return {"job_name": "docker device", "device_type": "docker", "visibility": "public",
            "timeouts": {"job": {"minutes": minutes}, "action": {"minutes": 1}, "connection": {"seconds": 20}},
            "actions": actions}


def run_docker_job(tmp_path, daemon, job, device):
    return run_lava(tmp_path, job, device, timeout=240, dispatcher_extra={"docker_host": daemon.host})


def test_docker_device_runs_the_test_shell_in_the_container(tmp_path, dockerd):  # noqa: F811
    before = host_state()
    steps = [
        'lava-test-case hostname --shell test "$(hostname)" = lava',
        "lava-test-case no-network --shell test ! -e /sys/class/net/eth0",
        "lava-test-case not-privileged --shell test ! -e /dev/sda",
        "lava-test-case broken --shell false",
    ]
    job = docker_job({"name": IMAGE, "local": True}, definitions=[inline("smoke", steps)])
    proc, records, _ = run_docker_job(tmp_path, dockerd, job, docker_device(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "hostname")] == "pass"
    assert found[("0_smoke", "no-network")] == "pass"
    assert found[("0_smoke", "not-privileged")] == "pass"
    assert found[("0_smoke", "broken")] == "fail"
    assert job_result(records)["result"] == "pass"
    assert_clean(dockerd, str(tmp_path))
    assert host_state() == before


def test_the_reference_docker_job_completes(tmp_path, dockerd):  # noqa: F811
    path = CORPUS / "jobs" / "dispatcher" / "docker-interactive.yaml"
    if not path.exists():
        pytest.skip(f"no corpus at {path}")
    job = yaml.safe_load(path.read_text())
    assert job["actions"][0]["deploy"]["image"] == "archlinux"
    job["actions"][0]["deploy"]["image"] = IMAGE  # no registry here: the lab's image, whose bash is ash
    proc, records, _ = run_docker_job(tmp_path, dockerd, job, docker_device(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("lava", "0_env-dut-inline")] == "pass"
    assert any(r["lvl"] == "target" and r["msg"].startswith("HOSTNAME=lava") for r in records)
    assert job_result(records)["result"] == "pass"
    assert_clean(dockerd, str(tmp_path))


def test_the_reference_multinode_docker_job_completes(tmp_path, dockerd):  # noqa: F811
    path = CORPUS / "jobs" / "server" / "secrets-multinode.yaml"
    if not path.exists():
        pytest.skip(f"no corpus at {path}")
    device = docker_device(tmp_path)
    subs = split_multinode(yaml.safe_load(path.read_text()))
    roles = {str(31 + index): sub.role for index, sub in enumerate(subs)}
    coordinator = Daemon(tmp_path)
    coordinator.start()
    try:
        conf = coordinator.config_for_clients(tmp_path / "lava-coordinator.conf")
        running = {}
        for job_id, sub in zip(roles, subs, strict=True):
            job = sub.definition
            job["protocols"]["lava-multinode"]["roles"] = roles  # what the server writes when it schedules
            for action in job["actions"]:
                if action.get("deploy", {}).get("to") == "docker":
                    action["deploy"]["image"] = {"name": IMAGE}  # alpine: no registry here
            home = tmp_path / job_id
            home.mkdir()
            (home / "job.yaml").write_text(yaml.safe_dump(job))
            config = write_dispatcher_config(home, {"coordinator_config": str(conf), "docker_host": dockerd.host})
            running[job_id] = subprocess.Popen(
                [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", job_id, "--output-dir", str(home / "out"),
                 "--device", str(device), "--dispatcher", str(config), str(home / "job.yaml")],
                stdout=subprocess.DEVNULL, stderr=(home / "stderr").open("w"), cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)})
        for job_id, proc in running.items():
            assert proc.wait(240) == 0, (tmp_path / job_id / "stderr").read_text()[-3000:]
    finally:
        coordinator.stop()
    for job_id in roles:
        records = parse_stream((tmp_path / job_id / "stderr").read_text())
        found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
        assert found[("lava", "0_test-secret")] == "pass"
    assert_clean(dockerd, str(tmp_path))


@pytest.mark.parametrize("image,expected", [
    ({"name": "lava/nothing-here:1", "local": True}, "docker image 'lava/nothing-here:1' does not exist"),
    ("registry.invalid/lava/nothing:1", "docker image 'registry.invalid/lava/nothing:1'"),
])
def test_a_missing_image_ends_the_job_incomplete(tmp_path, dockerd, image, expected):  # noqa: F811
    started = time.monotonic()
    proc, records, _ = run_docker_job(tmp_path, dockerd, docker_job(image), docker_device(tmp_path))
    assert proc.returncode != 0
    result = job_result(records)
    assert result["result"] == "fail" and expected in result["error_msg"], result
    assert time.monotonic() - started < 120
    assert_clean(dockerd, str(tmp_path))


@pytest.mark.parametrize("command,expected", [
    ("sh -c 'exit 3'", "exited with status 3"),
    # after the image, docker reads no option: this is the container's command, which does not exist
    ("--privileged sh", "--privileged"),
])
def test_a_container_that_exits_early_ends_the_job_incomplete(tmp_path, dockerd, command, expected):  # noqa: F811
    started = time.monotonic()
    job = docker_job({"name": IMAGE, "local": True}, command=command)
    proc, records, _ = run_docker_job(tmp_path, dockerd, job, docker_device(tmp_path))
    assert proc.returncode != 0
    result = job_result(records)
    assert result["error_type"] == "Infrastructure", result
    assert expected in result["error_msg"], result
    assert time.monotonic() - started < 60
    assert_clean(dockerd, str(tmp_path))


@pytest.mark.qemu
def test_docker_test_action_beside_a_qemu_board(tmp_path, dockerd):  # noqa: F811
    require_qemu("x86_64")
    imgs = images().x86_64
    device = yaml.safe_load((HERE / "devices" / "qemu-x86_64.yaml").read_text())
    device["commands"] = {"connect": "telnet localhost 7001"}  # what the container is told of the board
    (tmp_path / "device.yaml").write_text(yaml.safe_dump(device))
    job = qemu_job(imgs, [inline("board", ["lava-test-case on-board --shell test -e /proc/cpuinfo"])], minutes=6)
    job["actions"].append({"test": {
        "docker": {"image": IMAGE, "local": True}, "timeout": {"minutes": 2},
        "definitions": [inline("beside", [
            'lava-test-case connection --shell test "$LAVA_CONNECTION_COMMAND" = "telnet localhost 7001"',
            'lava-test-case in-container --shell test "$(hostname)" = lava',
            'lava-test-case device-name --shell test "$LAVA_DEVICE_HOSTNAME" = qemu-x86-01',
        ])],
    }})
    job["actions"].append({"test": {"timeout": {"minutes": 1}, "definitions": [
        inline("after", ["lava-test-case board-still-up --shell true"])]}})
    proc, records, _ = run_docker_job(tmp_path, dockerd, job, tmp_path / "device.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r for r in results(records)}
    assert found[("0_board", "on-board")]["result"] == "pass"
    for case in ("connection", "in-container", "device-name"):
        assert found[("0_beside", case)]["result"] == "pass", case
    assert found[("0_after", "board-still-up")]["result"] == "pass"
    assert job_result(records)["result"] == "pass"
    assert_clean(dockerd, str(tmp_path))


def test_run_options_come_from_the_device_dictionary_only():
    assert device_run_options({}) == ["--network", "none"]
    assert device_run_options({"cpus": 1.5, "memory": "256m", "devices": ["/dev/kvm"], "capabilities": ["NET_ADMIN"],
                               "privileged": True, "network": "host", "volumes": ["/srv/a:/a:ro"]}) == [
        "--network", "host", "--cpus", "1.5", "--memory", "256m", "--volume", "/srv/a:/a:ro",
        "--device", "/dev/kvm", "--cap-add", "NET_ADMIN", "--privileged"]
    assert device_run_options({"privileged": "yes"}) == ["--network", "none"]  # only a real true


def test_the_docker_test_container_knows_the_board():
    device = parse_device(yaml.safe_load(render_device_yaml(
        "hikey-01", "{% extends 'qemu.jinja2' %}\n{% set connection_command = 'telnet ser2net 7001' %}\n"
        "{% set hard_reset_command = ['pdu reset 1'] %}\n",
        device_types_paths=DEVICE_TYPES)))
    env = board_environment(device)
    assert env["LAVA_CONNECTION_COMMAND"] == "telnet ser2net 7001"
    assert env["LAVA_HARD_RESET_COMMAND"] == "pdu reset 1"
    assert env["LAVA_DEVICE_HOSTNAME"] == "hikey-01"
    assert container_options_for_tests(device) == ([], ["--network", "none"])
