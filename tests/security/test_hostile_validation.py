"""Hostile job text refused before anything runs: the real ``lava-run --validate`` and the job schema.

The full lab path (XML-RPC, scheduler, master, worker, QEMU) is in
``test_hostile_lab.py``; here the many hostile values are batched, at the
speed of validation. Every refusal must name the field and say why.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

from lava_common.schemas import JobSchemaError, validate_job
from lava_dispatcher.actions.deploy.tmpfs import image_arg_errors
from lava_dispatcher.qemu_args import check_context
from tests.dispatcher.helpers import HERE as DISPATCHER_TESTS
from tests.dispatcher.helpers import job_result, run_lava

QEMU_DEVICE = DISPATCHER_TESTS / "devices" / "qemu-arm64.yaml"
UBOOT_DEVICE = DISPATCHER_TESTS / "devices" / "uboot-arm64.yaml"

# each runs `touch CANARY` if a shell ever sees it
SHELL_PAYLOADS = {
    "dollar": "pc$(touch {canary})",
    "backticks": "pc`touch {canary}`",
    "semicolon": "pc;touch {canary}",
    "and": "pc && touch {canary}",
    "pipe": "pc|touch {canary}",
    "newline": "pc\ntouch {canary}",
}
QEMU_CONTEXT_KEYS = (
    "machine", "cpu", "memory", "monitor", "vga", "serial", "model", "netdevice", "boot_console", "boot_root",
    "guestfs_driveid", "guestfs_interface", "extra_options",
)


def base_job(kernel_url: str = "http://images.example/Image", **context) -> dict:
    return {
        "job_name": "hostile",
        "device_type": "qemu",
        "visibility": "public",
        "timeouts": {"job": {"minutes": 5}},
        "context": {"arch": "arm64", **context},
        "actions": [
            {"deploy": {"to": "tmpfs", "images": {
                "kernel": {"url": kernel_url, "image_arg": "-kernel {kernel} -append 'console=ttyAMA0'"},
                "ramdisk": {"url": "http://images.example/initrd", "image_arg": "-initrd {ramdisk}",
                            "format": "cpio.newc"},
            }}},
            {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "]}},
        ],
    }


def error_of(tmp_path: Path, job: dict, *extra: str, device: Path = QEMU_DEVICE) -> str:
    proc, records, _ = run_lava(tmp_path, job, device, "--validate", *extra)
    assert "Traceback" not in proc.stderr
    result = job_result(records)
    assert proc.returncode == 1 and result["result"] == "fail", result
    return result["error_msg"]


# -- item 1: shell syntax and QEMU escapes in context values and image_arg -------------------------


@pytest.mark.parametrize("key", QEMU_CONTEXT_KEYS)
@pytest.mark.parametrize("payload", SHELL_PAYLOADS.values(), ids=SHELL_PAYLOADS.keys())
def test_shell_syntax_in_a_context_value_is_refused_with_its_key(key, payload):
    value = payload.format(canary="/tmp/canary")
    errors = check_context({key: [value] if key == "extra_options" else value})
    assert errors and all(error.startswith(f"context.{key}") for error in errors), errors


@pytest.mark.parametrize("payload", SHELL_PAYLOADS.values(), ids=SHELL_PAYLOADS.keys())
def test_lava_run_refuses_shell_syntax_in_every_context_key_and_image_arg_and_runs_nothing(tmp_path, payload):
    canary = tmp_path / "canary"
    value = payload.format(canary=canary)
    context = {key: ([f"-smp {value}"] if key == "extra_options" else value) for key in QEMU_CONTEXT_KEYS}
    job = base_job(**context)
    job["actions"][0]["deploy"]["images"]["kernel"]["image_arg"] = "-kernel {kernel} " + value.replace("pc", "-m ")
    message = error_of(tmp_path, job)
    for key in QEMU_CONTEXT_KEYS:
        assert f"context.{key}" in message, (key, message)
    assert "images.kernel.image_arg" in message
    assert not canary.exists()


QEMU_ESCAPES = {
    "incoming exec": ["-incoming", "exec:touch /tmp/canary"],
    "monitor": ["-monitor", "stdio"],
    "serial to a file": ["-serial", "file:/tmp/x"],
    "serial with the monitor": ["-serial", "mon:stdio"],
    "drive of a host file": ["-drive", "file=/etc/shadow"],
    "relative host file": ["-drive", "file=device.yaml"],
    "guestfwd command": ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.1:80-cmd:touch"],
    "tap script": ["-net", "tap,script=/tmp/x"],
    "tap": ["-netdev", "tap,id=n"],
    "global romfile": ["-global", "virtio-net-pci.romfile=job.yaml"],
    "global property": ["-global", "driver=loader,property=file,value=job.yaml"],
    "vvfat of the job folder": ["-drive", "driver=vvfat,dir=.,if=none,id=v"],
    "nested filename": ["-drive", "file.filename=device.yaml,if=none,id=d"],
    "mtp of the job folder": ["-device", "usb-mtp,rootdir=."],
    "display on the host": ["-display", "gtk"],
    "smb share": ["-net", "user,smb=/"],
    "tftp of the host": ["-net", "user,tftp=/etc"],
    "loader device": ["-device", "loader,file=/etc/shadow"],
    "romfile": ["-device", "e1000,romfile=job.yaml"],
    "host usb": ["-device", "usb-host,hostbus=1"],
    "dumpdtb": ["-machine", "virt,dumpdtb=/tmp/x"],
    "chardev": ["-chardev", "file,id=c,path=/tmp/x"],
    "virtfs": ["-virtfs", "local,path=/,mount_tag=h,security_model=none"],
    "memory file": ["-object", "memory-backend-file,id=m,mem-path=/tmp/x,size=1M"],
    "rng from a file": ["-object", "rng-random,id=r,filename=/etc/shadow"],
    "kernel from the host": ["-kernel", "/etc/passwd"],
    "pidfile": ["-pidfile", "/tmp/x"],
    "plugin": ["-plugin", "/tmp/x.so"],
    "readconfig": ["-readconfig", "/etc/x"],
    "semihosting": ["-semihosting"],
}


@pytest.mark.parametrize("args", QEMU_ESCAPES.values(), ids=QEMU_ESCAPES.keys())
def test_qemu_options_that_reach_the_host_are_refused_in_extra_options_and_image_arg(args):
    assert check_context({"extra_options": args})[0].startswith("context.extra_options")
    text = "-initrd {ramdisk} " + " ".join(f"'{arg}'" for arg in args)
    errors = image_arg_errors({"ramdisk": {"url": "http://x/r", "image_arg": text}})
    assert errors and errors[0].startswith("images.ramdisk.image_arg"), errors


LEGITIMATE_CONTEXTS = [
    {"machine": "virt", "cpu": "cortex-a57", "memory": 1024, "netdevice": "user", "model": "virtio-net-pci"},
    {"machine": "virt,gic-version=3", "cpu": "cortex-a57,pauth=off", "memory": "2G", "vga": "none"},
    {"netdevice": "user,hostfwd=tcp::2222-:22,net=10.0.3.0/24", "monitor": "none", "serial": "stdio"},
    {"netdevice": "none", "no_kvm": True, "guestfs_interface": "virtio", "guestfs_driveid": "lavatest"},
    {"extra_options": ["-smp", 1, "-global", "virtio-blk-device.scsi=off", "-device virtio-scsi-device,id=scsi",
                       '--append "console=ttyAMA0 root=/dev/vda rw"']},
    {"extra_options": ["-device virtio-rng-pci", "-object rng-random,filename=/dev/urandom,id=rng0",
                       "-append 'console=ttyS0 $(not run: one argument)'", "-no-reboot"]},
    {"boot_console": "ttyAMA0,115200", "boot_root": "/dev/ram0", "lava_test_results_dir": "/lava-%s"},
    # the reference's forms (zephyr-qemu-test-task.yaml): the option's name, then the value
    {"model": "model=stellaris", "vga": "-vga none", "serial": "-serial stdio"},
]


@pytest.mark.parametrize("context", LEGITIMATE_CONTEXTS)
def test_legitimate_qemu_contexts_pass(context):
    assert check_context(context) == []


@pytest.mark.parametrize(("context", "reason"), [
    ({"vga": "-vga none -drive file=/etc/shadow"}, "must be one word"),
    ({"serial": "-serial file:/tmp/x"}, "must be one of"),
    ({"serial": "-serial mon:stdio"}, "'mon:' puts the QEMU monitor on the console"),
    ({"model": "model=e1000,romfile=/etc/shadow"}, "must be a name"),
])
def test_the_reference_forms_still_carry_one_checked_value(context, reason):
    errors = check_context(context)
    assert len(errors) == 1 and reason in errors[0], errors


@pytest.mark.parametrize("image_arg", [
    "-drive format=raw,file={image}",
    "-drive if=none,file={image},id=hd0,format=raw -device virtio-blk-device,drive=hd0",
    "-kernel {image} --append 'root=/dev/ram0 rw rootwait console=ttyAMA0,38400n8 init=/sbin/init'",
    '-kernel {image} -append "root=/dev/ram0 console=ttyAMA0 115200 qemu=1"',
    "-drive file={image},index=2,media=cdrom,readonly",
    "-initrd {image}", "-dtb {image}", "-bios {image}",
])
def test_legitimate_image_args_pass(image_arg):
    assert image_arg_errors({"image": {"url": "http://x/i", "image_arg": image_arg}}) == []


def test_context_checks_apply_to_qemu_devices_only(tmp_path):
    job = base_job(machine="not a qemu machine")
    job["actions"] = [{"boot": {"method": "minimal", "prompts": ["# "]}}]
    proc, records, _ = run_lava(tmp_path, job, DISPATCHER_TESTS / "devices" / "fake-board.yaml", "--validate")
    assert job_result(records)["result"] == "pass", proc.stderr


# -- item 2: paths built from job text ----------------------------------------------------------

CLIMBING = ["../../escaped", "../escaped", "a/../../escaped", ".."]
ABSOLUTE = ["/tmp/escaped", "/etc/cron.d/x"]


def _with(job: dict, where: tuple, value) -> dict:
    job = copy.deepcopy(job)
    target = job
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value
    return job


def path_job() -> dict:
    job = base_job()
    job["actions"][0]["deploy"]["images"]["ramdisk"]["overlays"] = {
        "modules": {"url": "http://x/m.tar", "format": "tar", "path": "/lib"},
    }
    job["actions"].append({"test": {"definitions": [{
        "from": "inline", "name": "smoke", "path": "inline/smoke.yaml",
        "repository": {"metadata": {"format": "Lava-Test Test Definition 1.0", "name": "smoke"},
                       "install": {"git-repos": [{"url": "https://git.example/x.git", "destination": "x"}]},
                       "run": {"steps": ["true"]}},
    }]}})
    return job


def _rename_label(job: dict, label: str) -> dict:
    job = copy.deepcopy(job)
    images = job["actions"][0]["deploy"]["images"]
    images[label] = images.pop("ramdisk")
    images[label]["image_arg"] = "-initrd {" + label + "}"
    return job


def _rename_overlay(job: dict, name: str) -> dict:
    job = copy.deepcopy(job)
    overlays = job["actions"][0]["deploy"]["images"]["ramdisk"]["overlays"]
    overlays[name] = overlays.pop("modules")
    return job


DEFINITION = ("actions", 2, "test", "definitions", 0)
PATH_FIELDS = {
    # field path in the error -> job with the value there
    "context.lava_test_results_dir": lambda job, v: _with(job, ("context", "lava_test_results_dir"), "/lava/" + v),
    "actions[0].deploy.images.": _rename_label,
    "actions[0].deploy.images.ramdisk.overlays.": _rename_overlay,
    "actions[0].deploy.images.ramdisk.overlays.modules.path": lambda job, v: _with(
        job, ("actions", 0, "deploy", "images", "ramdisk", "overlays", "modules", "path"), v),
    "actions[2].test.definitions[0].path": lambda job, v: _with(job, (*DEFINITION, "path"), v),
    "actions[2].test.definitions[0].repository.install.git-repos[0].destination": lambda job, v: _with(
        job, (*DEFINITION, "repository", "install", "git-repos", 0, "destination"), v),
}
# an image's overlay path and the results dir are paths inside the image or on the board: absolute is
# their normal form (test_worker_boundaries checks that an absolute overlay path stays in the tree)
ABSOLUTE_ALLOWED = {"context.lava_test_results_dir", "actions[0].deploy.images.ramdisk.overlays.modules.path"}


def schema_errors(job: dict) -> list[tuple[str, str]]:
    try:
        validate_job(job)
    except JobSchemaError as exc:
        return [(issue.path, issue.message) for issue in exc.errors]
    return []


def test_the_path_job_itself_is_valid():
    assert schema_errors(path_job()) == []


@pytest.mark.parametrize("field,value", [
    (field, value) for field in PATH_FIELDS for value in CLIMBING + ([] if field in ABSOLUTE_ALLOWED else ABSOLUTE)
])
def test_paths_that_leave_the_scratch_space_are_refused_with_the_field(field, value):
    errors = schema_errors(PATH_FIELDS[field](path_job(), value))
    assert errors, f"{field}={value!r} was accepted"
    assert any(path.startswith(field) and ("scratch" in message or "path" in message or "name" in message)
               for path, message in errors), errors


def test_lava_run_validate_refuses_a_climbing_label_with_its_path(tmp_path):
    message = error_of(tmp_path, _rename_label(path_job(), "../../escaped"))
    assert "actions[0].deploy.images.'../../escaped'" in message and "scratch space" in message


# -- item 3: file:// and local repositories on a lab worker ----------------------------------------


@pytest.fixture
def image_folders(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "Image").write_bytes(b"kernel")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret")
    (allowed / "link").symlink_to(outside / "secret")
    return allowed, outside


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "file://{outside}/secret",
    "file://{allowed}/../outside/secret",
    "file://{allowed}/link",  # a symbolic link out of the allowed folder
])
def test_file_urls_outside_the_allowed_folders_are_refused_on_a_worker(tmp_path, image_folders, url):
    allowed, outside = image_folders
    job = base_job(kernel_url=url.format(allowed=allowed, outside=outside))
    message = error_of(tmp_path, job, "--allowed-file-dirs", str(allowed))
    assert "actions[0].deploy.images.kernel.url" in message
    assert "outside the folders this worker allows" in message and str(allowed) in message


def test_file_urls_inside_the_allowed_folders_and_anywhere_standalone_pass(tmp_path, image_folders):
    allowed, outside = image_folders
    inside_job = base_job(kernel_url=f"file://{allowed}/Image")
    proc, records, _ = run_lava(tmp_path, inside_job, QEMU_DEVICE, "--validate", "--allowed-file-dirs",
                                os.pathsep.join([str(allowed), str(tmp_path / "other")]))
    assert job_result(records)["result"] == "pass", proc.stderr
    standalone = base_job(kernel_url=f"file://{outside}/secret")  # tuxrun: no --allowed-file-dirs
    proc, records, _ = run_lava(tmp_path, standalone, QEMU_DEVICE, "--validate")
    assert job_result(records)["result"] == "pass", proc.stderr


def test_an_empty_allowed_list_refuses_every_local_file(tmp_path, image_folders):
    allowed, _ = image_folders
    message = error_of(tmp_path, base_job(kernel_url=f"file://{allowed}/Image"), "--allowed-file-dirs", "")
    assert "allowed: none" in message


@pytest.mark.parametrize("source,repository", [
    ("git", "{outside}"),
    ("git", "file://{outside}"),
    ("git", "../../../../../../{outside}"),
    ("url", "file://{outside}/tests.tar"),
])
def test_test_definitions_from_local_paths_outside_the_allowed_folders_are_refused(
    tmp_path, image_folders, source, repository
):
    allowed, outside = image_folders
    job = base_job(kernel_url=f"file://{allowed}/Image")
    job["actions"].append({"test": {"definitions": [{
        "from": source, "name": "local", "path": "smoke.yaml",
        "repository": repository.format(outside=str(outside).lstrip("/") if "../" in repository else outside),
    }]}})
    message = error_of(tmp_path, job, "--allowed-file-dirs", str(allowed))
    assert "actions[2].test.definitions[0].repository" in message and "outside the folders" in message


def test_remote_git_and_http_sources_are_not_local_files(tmp_path, image_folders):
    allowed, _ = image_folders
    job = base_job(kernel_url="https://images.example/Image")
    job["actions"].append({"test": {"definitions": [
        {"from": "git", "name": "a", "path": "a.yaml", "repository": "https://git.example/a.git"},
        {"from": "git", "name": "b", "path": "b.yaml", "repository": "git@git.example:b.git"},
        {"from": "url", "name": "c", "path": "c.yaml", "repository": "https://x.example/c.tar"},
    ]}})
    proc, records, _ = run_lava(tmp_path, job, QEMU_DEVICE, "--validate", "--allowed-file-dirs", str(allowed))
    assert job_result(records)["result"] == "pass", proc.stderr


def test_a_uboot_job_gets_the_same_file_rule(tmp_path, image_folders):
    allowed, outside = image_folders
    job = yaml.safe_load((DISPATCHER_TESTS / "jobs" / "minimal.yaml").read_text())
    job["device_type"] = "uboot-arm64"
    job["actions"] = [{"deploy": {"to": "tftp", "kernel": {"url": f"file://{outside}/secret", "type": "image"}}}]
    message = error_of(tmp_path, job, "--allowed-file-dirs", str(allowed), device=UBOOT_DEVICE)
    assert "actions[0].deploy.kernel.url" in message
