"""Hostile jobs through the real path: XML-RPC submission, scheduler, master, lava-worker, lava-run, QEMU.

What a user reads is checked: the submission fault, or the job's failure
message and its log. Canary files stand for what an injected command or a
climbing path would create; none may exist afterwards. Only one job boots
QEMU; the others are refused before anything starts.
"""

from __future__ import annotations

import subprocess
import sys
import xmlrpc.client
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_server.accounts.models import AuthToken
from tests.server.live_lab import wait_for
from tests.server.test_e2e_jobs import finished
from tests.server.test_e2e_qemu import qemu_lab
from tests.server.test_xmlrpc import basic, proxy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dispatcher.qemu_jobs import inline, qemu_job  # noqa: E402
from testimages import images, images_dir  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

SHELL_SYNTAX = ["$(touch {canary})", "`touch {canary}`", ";touch {canary}", "&& touch {canary}",
                "|touch {canary}", "\ntouch {canary}"]
QEMU_CONTEXT_KEYS = ("machine", "cpu", "memory", "monitor", "vga", "serial", "model", "netdevice",
                     "boot_console", "boot_root", "guestfs_driveid", "guestfs_interface")


def submitter() -> xmlrpc.client.ServerProxy:
    user = User.objects.create_user("mallory")
    return proxy(basic("mallory", AuthToken.objects.create(user=user).secret))


def submit(rpc: xmlrpc.client.ServerProxy, definition: dict) -> int:
    return rpc.scheduler.jobs.submit(yaml.safe_dump(definition))


def job_log(job: TestJob) -> str:
    return "\n".join(LogStore(job_output_dir(job)).read())


def small_job(kernel_url: str = "http://127.0.0.1:9/Image", **context) -> dict:
    """A QEMU job refused before its first download: nothing it names is ever fetched."""
    return {
        "job_name": "hostile", "device_type": "qemu", "visibility": "public",
        "timeouts": {"job": {"minutes": 5}, "action": {"minutes": 3}},
        "context": {"arch": "arm64", **context},
        "actions": [
            {"deploy": {"to": "tmpfs", "images": {
                "kernel": {"url": kernel_url, "image_arg": "-kernel {kernel} -append 'console=ttyAMA0'"},
                "ramdisk": {"url": "http://127.0.0.1:9/initrd", "image_arg": "-initrd {ramdisk}",
                            "format": "cpio.newc"},
            }}},
            {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "], "timeout": {"minutes": 2}}},
        ],
    }


# -- refused at submission: paths that climb out of scratch --------------------------------------


def _label(definition: dict, value: str) -> dict:
    images_block = definition["actions"][0]["deploy"]["images"]
    images_block[value] = images_block.pop("kernel")
    images_block[value]["image_arg"] = "-kernel {" + value + "}"
    return definition


def _definition_path(definition: dict, value: str) -> dict:
    definition["actions"].append({"test": {"definitions": [dict(inline("t", ["true"]), path=value)]}})
    return definition


def _results_dir(definition: dict, value: str) -> dict:
    definition["context"]["lava_test_results_dir"] = value
    return definition


def _overlay(definition: dict, value: str) -> dict:
    ramdisk = definition["actions"][0]["deploy"]["images"]["ramdisk"]
    ramdisk["overlays"] = {"modules": {"url": "http://127.0.0.1:9/m.tar", "format": "tar", "path": value}}
    return definition


@pytest.mark.parametrize("make,value,field", [
    (_label, "../../../escaped", "actions[0].deploy.images.'../../../escaped'"),
    (_label, "/tmp/escaped", "actions[0].deploy.images.'/tmp/escaped'"),
    (_label, "..", "actions[0].deploy.images.'..'"),
    (_definition_path, "../../escaped.yaml", "actions[2].test.definitions[0].path"),
    (_definition_path, "/etc/passwd", "actions[2].test.definitions[0].path"),
    (_results_dir, "/lava-%s/../../../escaped", "context.lava_test_results_dir"),
    (_overlay, "../../../escaped", "actions[0].deploy.images.ramdisk.overlays.modules.path"),
])
def test_submission_refuses_paths_out_of_scratch_with_the_field_and_reason(make, value, field):
    rpc = submitter()
    with pytest.raises(xmlrpc.client.Fault) as info:
        submit(rpc, make(small_job(), value))
    assert info.value.faultCode == 400
    assert field in info.value.faultString and "scratch space" in info.value.faultString, info.value.faultString
    assert TestJob.objects.count() == 0


# -- through the lab -----------------------------------------------------------------------------


@pytest.mark.qemu
def test_hostile_jobs_through_the_lab_run_nothing_and_say_why(tmp_path, settings):
    arm64 = images().arm64
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    # a shell runs this even inside double quotes; without a space the kernel keeps it as one parameter
    append_payload = f"$(touch${{IFS}}{canaries}/append)"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("not for jobs\n")
    subprocess.run(["git", "init", "-q", str(outside / "repo")], check=True)
    lab = qemu_lab(tmp_path / "lab", settings)
    rpc = submitter()
    try:
        shell_jobs = {
            index: submit(rpc, small_job(**{
                key: payload.format(canary=canaries / f"{key}-{index}") for key in QEMU_CONTEXT_KEYS
            }))
            for index, payload in enumerate(SHELL_SYNTAX)
        }
        extra_options = submit(rpc, small_job(extra_options=[
            "-incoming", f"exec:touch {canaries / 'incoming'}", "-serial", f"file:{canaries / 'serial'}"]))
        image_arg = qemu_job(arm64)
        image_arg["actions"][0]["deploy"]["images"]["ramdisk"]["image_arg"] = (
            f"-initrd {{ramdisk}} $(touch {canaries / 'image_arg'}) -drive file={outside / 'secret'}")
        image_arg = submit(rpc, image_arg)
        file_url = submit(rpc, small_job(kernel_url=f"file://{outside}/secret"))
        local_git = qemu_job(arm64, [{"from": "git", "name": "g", "path": "t.yaml",
                                      "repository": str(outside / "repo")}])
        local_git = submit(rpc, local_git)
        # the one boot: shell syntax where a job may write free text (the kernel command line) is
        # one argument for QEMU, and a QEMU value QEMU does not know is QEMU's error, not a shell's
        booted = qemu_job(arm64, [inline("smoke", ["lava-test-case ok --shell true"])])
        booted["actions"][0]["deploy"]["images"]["kernel"]["image_arg"] = (
            f'-kernel {{kernel}} -append "console={arm64.console} panic=-1 lava.x={append_payload}"')
        booted = submit(rpc, booted)
        unknown_machine = qemu_job(arm64)
        unknown_machine["context"]["machine"] = "no-such-machine"
        unknown_machine = submit(rpc, unknown_machine)
        ids = [*shell_jobs.values(), extra_options, image_arg, file_url, local_git, booted, unknown_machine]
        jobs = {pk: wait_for(lambda pk=pk: finished(pk), 400, f"job {pk} finished", lab, interval=0.5) for pk in ids}
    finally:
        lab.stop_all()

    def refused(pk: int, *fields: str) -> str:
        job = jobs[pk]
        assert job.get_health_display() == "Incomplete", (job.error_msg, lab.logs())
        for field in fields:
            assert field in job.error_msg, (field, job.error_msg)
        log = job_log(job)
        assert "Boot command" not in log and "qemu_version" not in log  # QEMU never started
        return job.error_msg

    for pk in shell_jobs.values():
        message = refused(pk, *(f"context.{key}" for key in QEMU_CONTEXT_KEYS))
        assert "must" in message  # each refusal says what the value must be
    refused(extra_options, "context.extra_options: QEMU option '-incoming' is not one a job may use",
            "context.extra_options: -serial 'file:")
    refused(image_arg, "images.ramdisk.image_arg: '$(touch' is not a QEMU option",
            "images.ramdisk.image_arg: -drive 'file=")
    assert "lava-worker --allow-file-dir" in refused(file_url, "actions[0].deploy.images.kernel.url",
                                                     f"'{outside}/secret' is a local file outside the folders")
    assert str(images_dir().resolve()) in jobs[file_url].error_msg
    refused(local_git, "actions[2].test.definitions[0].repository", "outside the folders this worker allows")

    assert jobs[booted].get_health_display() == "Complete", (jobs[booted].error_msg, lab.logs())
    assert f"lava.x={append_payload}" in job_log(jobs[booted])  # QEMU got it verbatim, as one argument
    assert jobs[unknown_machine].get_health_display() == "Incomplete"
    assert "no-such-machine" in job_log(jobs[unknown_machine])

    assert sorted(canaries.iterdir()) == []
