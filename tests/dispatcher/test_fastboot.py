"""fastboot deploy and boot on the virtual phone (share/virtual-lab/fastboot_phone.py), driven by the real fastboot CLI.

The phone's UART is one end of a socat pty pair, the console the other; its
power is the lab's outlet script (board-power.sh) with an outlet file of the
test's own. The device configuration is rendered from fastboot-phone.jinja2.
"""

from __future__ import annotations

import gzip
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from testimages import PROMPT_REGEX, android_images, fastboot_container_rootfs, require_qemu

from lava_dispatcher.actions.deploy.fastboot import flash_order
from lava_dispatcher.device import parse_device
from lava_dispatcher.fastboot import HostTools
from lava_scheduler.device_config import render_device_config

from .docker_fixtures import dockerd  # noqa: F401 - a fixture
from .helpers import HERE, REPO, job_result, results, run_lava
from .qemu_jobs import inline

VIRTUAL_LAB = REPO / "share" / "virtual-lab"
DEVICE_TYPES = [REPO / "device-types"]
FASTBOOT_IMAGE = "lava/fastboot:1"

pytestmark = pytest.mark.skipif(not shutil.which("fastboot"), reason="the fastboot CLI is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gone(marker: str) -> bool:
    return subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode != 0


class PhoneBench:
    """A phone on outlet 1 of a private state dir; ``device`` is its rendered configuration."""

    def __init__(self, root: Path, fail_partition: str | None = None, power: bool = True) -> None:
        self.root = root
        self.state = root / "lab"
        (self.state / "outlets").mkdir(parents=True)
        self.uart, self.line = self.state / "uart", self.state / "line"
        self.port = _free_port()
        self.socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={self.uart}", f"pty,raw,echo=0,link={self.line}"],
                                      start_new_session=True)
        deadline = time.monotonic() + 5
        while not (self.uart.exists() and self.line.exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
        argv = [sys.executable, str(VIRTUAL_LAB / "fastboot_phone.py"), "--state", str(self.state / "phone"),
                "--port", str(self.port), "--uart", str(self.uart), "--arch", "arm64", "--daemonize",
                "--pidfile", str(self.state / "outlets" / "1.pid")]
        if fail_partition:
            argv += ["--fail-partition", fail_partition]
        # without power, the outlet switches on a board that never answers (stuck before its bootloader)
        (self.state / "outlets" / "1.on").write_text(("exec " + shlex.join(argv) if power else "exit 0") + "\n")
        outlet = f"sh {VIRTUAL_LAB / 'board-power.sh'} {self.state}"
        dictionary = (
            "{% extends 'fastboot-phone.jinja2' %}\n"
            f"{{% set connection_command = 'socat STDIO,raw,echo=0 {self.line},raw,echo=0' %}}\n"
            f"{{% set power_on_command = '{outlet} on 1' %}}\n"
            f"{{% set power_off_command = '{outlet} off 1' %}}\n"
            f"{{% set fastboot_serial_number = 'tcp:127.0.0.1:{self.port}' %}}\n"
            "{% set flash_cmds_order = ['system', 'boot'] %}\n"
            "{% set device_info = [{'board_id': fastboot_serial_number}] %}\n"
        )
        self.device = root / "device.yaml"
        self.device.write_text(yaml.safe_dump(render_device_config("phone-01", dictionary, {}, device_types_paths=DEVICE_TYPES)))

    def partition(self, name: str) -> Path:
        return self.state / "phone" / "partitions" / name

    def stop(self) -> None:
        subprocess.run(["sh", str(VIRTUAL_LAB / "board-power.sh"), str(self.state), "off", "1"], check=False)
        os.killpg(self.socat.pid, signal.SIGTERM)
        self.socat.wait(timeout=10)


@pytest.fixture
def bench(request, tmp_path):
    benches: list[PhoneBench] = []

    def make(**kwargs) -> PhoneBench:
        benches.append(PhoneBench(tmp_path, **kwargs))
        return benches[-1]

    yield make
    for made in benches:
        made.stop()
        assert _gone(str(made.state)), "a process of the phone outlived the test"


def fastboot_job(boot: Path, system: Path, definitions=None, timeout_minutes: int = 6) -> dict:
    actions = [
        {"deploy": {"to": "fastboot", "timeout": {"minutes": 2}, "images": {
            "boot": {"url": f"file://{boot}", "apply-overlay": True},
            "system": {"url": f"file://{system}", "reboot": "fastboot-reboot-bootloader"},
        }}},
        {"boot": {"method": "fastboot", "prompts": [PROMPT_REGEX], "timeout": {"minutes": 4},
                  "commands": ["oem device-info"]}},
    ]
    if definitions:
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": definitions}})
    return {"job_name": "fastboot phone", "device_type": "fastboot-phone", "visibility": "public",
            "timeouts": {"job": {"minutes": timeout_minutes}, "action": {"minutes": 3}}, "actions": actions}


def test_the_template_gives_the_reference_variables(bench):
    data = yaml.safe_load(bench(power=False).device.read_text())
    assert data["fastboot_serial_number"].startswith("tcp:127.0.0.1:")
    assert data["flash_cmds_order"] == ["system", "boot"]
    assert data["device_info"] == [{"board_id": data["fastboot_serial_number"]}]
    assert data["adb_serial_number"] == ""
    assert "fastboot" in data["actions"]["deploy"]["methods"]
    assert data["actions"]["boot"]["methods"]["fastboot"] == ["reboot"]


def test_the_fastboot_family_renders_every_variable_the_reference_reads():
    dictionary = ("{% extends 'dragonboard-410c.jinja2' %}\n{% set adb_serial_number = 'c2e02318' %}\n"
                  "{% set fastboot_options = ['-S', '256M', '-u'] %}\n{% set fastboot_via_uboot = true %}\n"
                  "{% set flash_cmds_order = ['ptable', 'boot'] %}\n{% set board_id = 'c2e02318' %}\n"
                  "{% set device_info = [{'board_id': adb_serial_number}] %}\n")
    data = render_device_config("db410c-01", dictionary, {}, device_types_paths=DEVICE_TYPES)
    assert data["fastboot_serial_number"] == data["adb_serial_number"] == "c2e02318"  # defaults to the adb one
    assert data["fastboot_options"] == ["-S", "256M", "-u"]
    assert data["fastboot_via_uboot"] is True and data["board_id"] == "c2e02318"
    assert data["flash_cmds_order"] == ["ptable", "boot"]
    assert data["device_info"] == [{"board_id": "c2e02318"}]
    assert set(data["actions"]["boot"]["connections"]) >= {"adb", "serial"}


@pytest.mark.qemu
def test_flash_boot_image_and_sparse_image_then_boot_and_test(bench, tmp_path):
    require_qemu("arm64")
    boot, system = android_images("arm64")
    phone = bench()
    compressed = tmp_path / "system.simg.gz"
    compressed.write_bytes(gzip.compress(system.read_bytes()))
    job = fastboot_job(boot, system, [inline("smoke", ["lava-test-case kernel --shell uname -r",
                                                       "lava-test-case board --shell test -n \"$LAVA_DEVICE_INFO_0_BOARD_ID\""])])
    # the system image comes through a `to: downloads` deploy, decompressed, as a downloads:/// URL
    job["actions"].insert(0, {"deploy": {"to": "downloads", "images": {
        "system": {"url": f"file://{compressed}", "compression": "gz"}}}})
    # ... and carries the overlay too: a sparse ext4 image, expanded, written with debugfs, packed again
    job["actions"][1]["deploy"]["images"]["system"] = {"url": "downloads:///system.simg", "reboot": "hard-reset",
                                                       "apply-overlay": True}
    proc, records, _ = run_lava(tmp_path, job, phone.device)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "kernel")] == "pass"
    assert found[("0_smoke", "board")] == "pass"  # device_info reached the test shell
    assert job_result(records)["result"] == "pass"
    messages = [str(r["msg"]) for r in records]
    # flash_cmds_order: system first, then boot; the sparse image was sent as it is, expanded by the phone
    flashes = [m for m in messages if m.startswith("running: fastboot -s tcp:") and " flash " in m]
    assert [m.split(" flash ")[1].split()[0] for m in flashes] == ["system", "boot"]
    # hard-reset between the two flashes: the phone powered off and on, the flashed system kept
    between = messages[messages.index(flashes[0]):messages.index(flashes[1])]
    assert any(m.startswith("power-off: running") for m in between) and any("is in fastboot" in m for m in between)
    assert any("oem device-info" in m for m in messages if m.startswith("running: fastboot"))
    flashed = str(phone.partition("system"))
    listing = subprocess.run(["debugfs", "-R", "ls -l /", flashed], capture_output=True, text=True).stdout
    assert "build-id" in listing and "lava-1" in listing
    runner = subprocess.run(["debugfs", "-R", "stat /lava-1/bin/lava-test-runner", flashed], capture_output=True, text=True)
    assert "0755" in runner.stdout
    assert subprocess.run(["e2fsck", "-fn", flashed], capture_output=True).returncode == 0
    # the boot partition holds the job's boot image with the overlay in its ramdisk: bigger than the original
    assert phone.partition("boot").stat().st_size > boot.stat().st_size


def test_a_phone_that_never_enters_fastboot_is_incomplete_in_time(bench, tmp_path):
    boot, system = android_images("arm64")
    phone = bench(power=False)
    job = fastboot_job(boot, system, timeout_minutes=2)
    job["actions"][0]["deploy"]["timeout"] = {"seconds": 10}
    start = time.monotonic()
    proc, records, _ = run_lava(tmp_path, job, phone.device, timeout=120)
    assert proc.returncode != 0
    assert time.monotonic() - start < 40
    result = job_result(records)
    assert result["result"] == "fail"
    assert f"tcp:127.0.0.1:{phone.port} never entered fastboot" in str(result)


def test_a_flash_that_fails_half_way_names_the_partition(bench, tmp_path):
    boot, system = android_images("arm64")
    phone = bench(fail_partition="boot")
    proc, records, _ = run_lava(tmp_path, fastboot_job(boot, system), phone.device, timeout=120)
    assert proc.returncode != 0
    result = job_result(records)
    assert "flashing partition 'boot'" in str(result) and "flash write failure on boot" in str(result)
    assert result["result"] == "fail"
    assert phone.partition("system").exists() and not phone.partition("boot").exists()


def test_the_docker_variant_runs_fastboot_in_the_image_or_says_why_it_cannot(bench, tmp_path):
    boot, system = android_images("arm64")
    phone = bench()
    job = fastboot_job(boot, system)
    job["actions"][0]["deploy"]["docker"] = {"image": "lava-test/no-such-fastboot-image", "local": True}
    proc, records, _ = run_lava(tmp_path, job, phone.device, timeout=120)
    assert proc.returncode != 0
    error = job_result(records)["error_msg"]
    # docker is installed and running with that image nowhere, so one of the three reasons is given
    assert error.startswith("docker: "), error
    assert any(why in error for why in ("CLI is not installed", "cannot reach the docker daemon",
                                        "'lava-test/no-such-fastboot-image' is not on the worker"))
    assert not phone.partition("boot").exists()
    # the bench's power-off (the fixture) must stop QEMU too: checked there


@pytest.mark.qemu
def test_the_docker_variant_flashes_and_boots_through_the_container(bench, tmp_path, dockerd):  # noqa: F811
    require_qemu("arm64")
    boot, system = android_images("arm64")
    dockerd.import_image(fastboot_container_rootfs(), FASTBOOT_IMAGE)
    phone = bench()
    job = fastboot_job(boot, system, [inline("smoke", ["lava-test-case kernel --shell uname -r"])])
    job["actions"][0]["deploy"]["docker"] = {"image": FASTBOOT_IMAGE, "local": True}
    proc, records, _ = run_lava(tmp_path, job, phone.device, dispatcher_extra={"docker_host": dockerd.host})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = {(r["definition"], r["case"]): r["result"] for r in results(records)}
    assert found[("0_smoke", "kernel")] == "pass" and found[("lava", "login-action")] == "pass"
    assert job_result(records)["result"] == "pass"
    # every fastboot of the deploy ran in the image, on the dispatcher's daemon, with the host's network
    deploy = [str(r["msg"]) for r in records if str(r["msg"]).startswith("running: ")]
    deploy = deploy[:next(i for i, m in enumerate(deploy) if "oem device-info" in m)]  # the boot's own, on the host
    in_container = f"/usr/bin/docker -H {dockerd.host} run --rm --init --network=host --pull=never "
    fastboots = [m for m in deploy if " fastboot -s tcp:" in m]
    assert fastboots and all(m.startswith("running: " + in_container) and f" {FASTBOOT_IMAGE} fastboot " in m
                             for m in fastboots), fastboots
    assert not any(m.startswith("running: fastboot") for m in deploy)
    flashes = [m.split(" flash ")[1].split()[0] for m in fastboots if " flash " in m]
    assert flashes == ["system", "boot"]
    # the phone got both images through the read-only mounts: the system as sent, the boot with the overlay
    assert phone.partition("system").is_file() and phone.partition("boot").stat().st_size > boot.stat().st_size
    assert dockerd.containers() == []
    assert subprocess.run(["pgrep", "-f", f"{FASTBOOT_IMAGE} fastboot"], capture_output=True).returncode != 0
    # the bench's power-off (the fixture) checks that no process of the phone is left


def test_the_docker_wrapper_runs_the_tools_without_privileges():
    tools = HostTools(serial="tcp:127.0.0.1:5555", options=("-S", "256M"), docker_image="adb-fastboot",
                      docker_local=True)
    argv = tools.fastboot("flash", "boot", "/scratch/boot/boot.img", files=(Path("/scratch/boot/boot.img"),))
    assert argv[:5] == ["docker", "run", "--rm", "--init", "--network=host"]
    assert "--privileged" not in argv and "--pull=never" in argv
    assert argv[argv.index("--volume") + 1] == "/scratch/boot:/scratch/boot:ro"
    assert argv[-8:] == ["fastboot", "-s", "tcp:127.0.0.1:5555", "-S", "256M", "flash", "boot", "/scratch/boot/boot.img"]
    assert "--network=none" in HostTools(serial="c2e02318", docker_image="adb-fastboot").fastboot("devices")


def test_flash_cmds_order_comes_first_then_the_jobs_order():
    device = parse_device(yaml.safe_load((HERE / "devices" / "fastboot-phone.yaml").read_text()))
    assert flash_order(device, ["userdata", "boot", "vendor", "system"]) == ["system", "boot", "userdata", "vendor"]


def test_the_phone_answers_the_fastboot_cli_and_boots_an_unflashed_image(bench, tmp_path):
    require_qemu("arm64")
    boot, _ = android_images("arm64")
    phone = bench()
    subprocess.run(["sh", str(VIRTUAL_LAB / "board-power.sh"), str(phone.state), "on", "1"], check=True)

    def fastboot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["fastboot", "-s", f"tcp:127.0.0.1:{phone.port}", *args],
                              capture_output=True, text=True, timeout=30)

    listed = fastboot("getvar", "all")
    assert listed.returncode == 0 and "product:lava-virtual-phone" in listed.stderr
    assert "(bootloader) device-info" in fastboot("oem", "device-info").stderr
    assert fastboot("flash", "../escape", str(boot)).returncode != 0
    assert fastboot("flash", "misc", str(boot)).returncode == 0 and phone.partition("misc").exists()
    assert fastboot("erase", "misc").returncode == 0 and not phone.partition("misc").exists()
    # `fastboot boot` runs the image without flashing it: QEMU starts, fastboot stops answering
    assert fastboot("boot", str(boot)).returncode == 0
    deadline = time.monotonic() + 10
    while _gone(f"virtual-phone-{phone.state / 'phone'}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _gone(f"virtual-phone-{phone.state / 'phone'}")
    assert not phone.partition("boot").exists()
    # the bench's power-off (the fixture) must stop QEMU too: checked there
