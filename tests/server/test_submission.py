"""Submission: what is accepted, what is refused and why, and that a refusal stores nothing."""

import time

import pytest
import yaml
from django.contrib.auth.models import Group

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.submission import SubmissionError, submit_job
from lava_scheduler.lab.models import Alias, Device, DeviceType, Tag
from lava_scheduler.lab.states import DeviceHealth
from tests.conftest import CORPUS

JOB = {
    "job_name": "qemu smoke",
    "device_type": "qemu",
    "visibility": "public",
    "priority": "high",
    "timeouts": {"job": {"minutes": 10}, "queue": {"hours": 2}},
    "context": {"arch": "amd64"},
    "metadata": {"build": 42, "nightly": True},
    "actions": [
        {"deploy": {"to": "tmpfs", "images": {"rootfs": {"url": "file:///tmp/disk.img", "image_arg": "-hda {rootfs}"}}}},
        {"boot": {"method": "qemu", "media": "tmpfs", "prompts": ["# "]}},
    ],
}


def job_text(**changes) -> str:
    data = dict(JOB, **changes)
    return yaml.safe_dump({k: v for k, v in data.items() if v is not None}, sort_keys=False)


def refused(text, user, match: str) -> SubmissionError:
    before = TestJob.objects.count()
    with pytest.raises(SubmissionError) as info:
        submit_job(text, user)
    assert any(match in error for error in info.value.errors), info.value.errors
    assert TestJob.objects.count() == before
    return info.value


def test_valid_job_is_stored_with_its_settings(user, device):
    (job,) = submit_job(job_text(), user)
    job = TestJob.objects.get(pk=job.pk)
    assert job.requested_device_type_id == "qemu"
    assert job.priority == 100
    assert job.is_public
    assert job.metadata == {"build": "42", "nightly": "true"}
    assert job.queue_timeout == 7200
    assert job.description == "qemu smoke"
    assert job.original_definition == job_text()
    assert yaml.safe_load(job.definition)["job_name"] == "qemu smoke"
    assert job.get_state_display() == "Submitted"


def test_alias_resolves_to_its_device_type(user, device, qemu_type):
    Alias.objects.create(name="kvm", device_type=qemu_type)
    (job,) = submit_job(job_text(device_type="kvm"), user)
    assert job.requested_device_type_id == "qemu"


def test_unknown_device_type_is_refused_by_name(user, device):
    refused(job_text(device_type="nosuch"), user, "device_type: no device type or alias 'nosuch' in this lab")


def test_type_without_usable_device_is_refused(user, device, qemu_type):
    DeviceType.objects.create(name="beaglebone-black")
    refused(job_text(device_type="beaglebone-black"), user, "no usable (non-retired) beaglebone-black device")
    device.go_health(DeviceHealth.RETIRED, "gone")
    device.save()
    refused(job_text(), user, "no usable (non-retired) qemu device")


def test_tags_must_exist_and_be_on_one_device(user, device):
    refused(job_text(tags=["usb"]), user, "tags: unknown tag(s) usb")
    usb = Tag.objects.create(name="usb")
    Tag.objects.create(name="hdmi")
    refused(job_text(tags=["usb"]), user, "no qemu device has all of the tags usb")
    device.tags.add(usb)
    refused(job_text(tags=["usb", "hdmi"]), user, "no qemu device has all of the tags hdmi, usb")
    (job,) = submit_job(job_text(tags=["usb"]), user)
    assert [t.name for t in job.tags.all()] == ["usb"]


def test_requested_device_and_worker_are_checked(user, device, worker, qemu_type):
    DeviceType.objects.create(name="other")
    Device.objects.create(hostname="other-01", device_type_id="other")
    refused(job_text(device="missing"), user, "device: no device 'missing'")
    refused(job_text(device="other-01"), user, "'other-01' is a other, not a qemu")
    refused(job_text(worker="nope"), user, "worker: no worker 'nope'")
    (job,) = submit_job(job_text(device="qemu-01", worker="worker-1"), user)
    assert (job.requested_device_id, job.requested_worker_id) == ("qemu-01", "worker-1")


def test_group_visibility(user, device):
    refused(job_text(visibility={"group": ["qa"]}), user, "visibility.group: unknown group(s) qa")
    Group.objects.create(name="qa")
    (job,) = submit_job(job_text(visibility={"group": ["qa"]}), user)
    assert not job.is_public
    assert [g.name for g in job.viewing_groups.all()] == ["qa"]


def test_schema_errors_come_with_a_path(user, device):
    data = dict(JOB)
    data["actions"] = [{"boot": {"method": "magic"}}]
    refused(yaml.safe_dump(data), user, "actions[0].boot.method")
    refused(job_text(priority=200), user, "priority")
    refused(job_text(timeouts=None), user, "timeouts")


def test_action_timeout_longer_than_the_job_is_refused_at_submission(user, device):
    # lava-run only warns about this (tuxrun's boot-only jobs are like it); the server refuses, as the reference
    data = dict(JOB, timeouts={"job": {"minutes": 4}})
    data["actions"] = [JOB["actions"][0], {"boot": dict(JOB["actions"][1]["boot"], timeout={"minutes": 5})}]
    refused(yaml.safe_dump(data), user, "actions[1].boot.timeout: 5 minutes is longer than the job timeout (4 minutes)")


def test_an_endless_queue_timeout_is_stored_as_the_longest_one(user, device):
    (job,) = submit_job(job_text(timeouts={"job": {"minutes": 10}, "queue": {"days": 10**20}}), user)
    assert job.queue_timeout == 2**31 - 1


def test_reference_leniencies_are_accepted(user, device):
    data = dict(JOB, timeouts={"job": {"minutes": 1, "seconds": 30}}, build_notes="from CI")
    data["actions"] = [JOB["actions"][0], {"boot": dict(JOB["actions"][1]["boot"], repeat=2, failure_retry=2)}]
    (job,) = submit_job(yaml.safe_dump(data), user)
    assert job.pk


@pytest.mark.parametrize(
    "text",
    [
        "",
        "- just\n- a list\n",
        "{{{{ not yaml",
        "\x00\x01binary",
        "a: &a [x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e]\n",
        "[" * 50_000,
        "job_name: " + "x" * 2_000_000,
    ],
    ids=["empty", "list", "garbage", "binary", "alias-bomb", "deep", "huge"],
)
def test_bad_yaml_is_refused_quickly_and_stores_nothing(user, device, text):
    started = time.monotonic()
    with pytest.raises(SubmissionError):
        submit_job(text, user)
    assert time.monotonic() - started < 1.0
    assert TestJob.objects.count() == 0


@pytest.mark.skipif(not CORPUS.exists(), reason="corpus not available")
def test_multinode_job_is_split_per_role_and_count(user, worker):
    for name in ("beaglebone-black", "qemu"):
        device_type = DeviceType.objects.create(name=name)
        for index in range(2):
            Device.objects.create(hostname=f"{name}-{index}", device_type=device_type, worker_host=worker)
    text = (CORPUS / "jobs" / "server" / "bbb-qemu-multinode.yaml").read_text()
    jobs = submit_job(text, user)
    assert [j.sub_id for j in jobs] == [f"{jobs[0].pk}.{i}" for i in range(4)]
    assert len({j.target_group for j in jobs}) == 1
    roles = [yaml.safe_load(j.definition)["protocols"]["lava-multinode"]["role"] for j in jobs]
    assert roles == ["server", "server", "client", "client"]
    server = yaml.safe_load(jobs[0].definition)
    assert server["device_type"] == "beaglebone-black"
    assert all("role" not in next(iter(a.values())) for a in server["actions"])
    assert [next(iter(a)) for a in server["actions"]] == ["deploy", "boot", "test"]
    assert [j.requested_device_type_id for j in jobs] == ["beaglebone-black"] * 2 + ["qemu"] * 2


@pytest.mark.skipif(not CORPUS.exists(), reason="corpus not available")
def test_multinode_needs_enough_devices_of_every_role(user, worker):
    DeviceType.objects.create(name="qemu")
    Device.objects.create(hostname="qemu-0", device_type_id="qemu", worker_host=worker)
    text = (CORPUS / "jobs" / "server" / "bbb-qemu-multinode.yaml").read_text()
    refused(text, user, "roles.server.device_type: no device type or alias 'beaglebone-black'")
    DeviceType.objects.create(name="beaglebone-black")
    for index in range(2):
        Device.objects.create(hostname=f"bbb-{index}", device_type_id="beaglebone-black", worker_host=worker)
    refused(text, user, "roles.client.count: 2 devices needed, only 1 usable qemu device(s)")
