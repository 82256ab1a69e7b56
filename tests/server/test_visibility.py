import pytest
from django.contrib.auth.models import AnonymousUser, Group, User

from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.visibility import can_change, can_view, visible_jobs
from lava_scheduler.lab.models import Device, DeviceType
from lava_scheduler.permissions.models import GroupDevicePermission


@pytest.fixture
def people(db):
    qa, ops = Group.objects.create(name="qa"), Group.objects.create(name="ops")
    alice = User.objects.create(username="alice")
    bob = User.objects.create(username="bob")
    bob.groups.add(qa)
    carol = User.objects.create(username="carol")
    carol.groups.add(qa, ops)
    root = User.objects.create(username="root", is_superuser=True)
    return {"alice": alice, "bob": bob, "carol": carol, "root": root, "qa": qa, "ops": ops}


def make(submitter, public=False, groups=()):
    job = TestJob.objects.create(submitter=submitter, definition="x", is_public=public)
    job.viewing_groups.set(groups)
    return job


def test_public_personal_and_group_jobs(people):
    alice, bob, carol, root = people["alice"], people["bob"], people["carol"], people["root"]
    public = make(alice, public=True)
    personal = make(alice)
    qa_only = make(alice, groups=[people["qa"]])
    qa_and_ops = make(alice, groups=[people["qa"], people["ops"]])
    everyone = {public, personal, qa_only, qa_and_ops}
    assert set(visible_jobs(AnonymousUser())) == {public}
    assert set(visible_jobs(alice)) == everyone  # the submitter sees her own
    assert set(visible_jobs(bob)) == {public, qa_only}
    assert set(visible_jobs(carol)) == {public, qa_only, qa_and_ops}
    assert set(visible_jobs(root)) == everyone
    assert not can_view(personal, bob) and can_view(qa_only, bob) and not can_view(qa_and_ops, bob)
    assert can_change(personal, alice) and not can_change(public, bob) and can_change(public, root)
    assert not can_change(public, AnonymousUser())


def test_a_dynamic_connection_shows_where_its_whole_group_does(people, worker):
    """A secondary connection has no device: it is visible to those who may see its group's devices."""
    DeviceType.objects.create(name="qemu")
    board = Device.objects.create(hostname="qemu-01", device_type_id="qemu", worker_host=worker)
    host = TestJob.objects.create(submitter=people["alice"], definition="x", is_public=True, target_group="g",
                                  requested_device_type_id="qemu", actual_device=board)
    guest = TestJob.objects.create(submitter=people["alice"], definition="x", is_public=True, target_group="g")
    assert {host, guest} <= set(visible_jobs(people["bob"]))
    GroupDevicePermission.objects.create(group=people["ops"], device=board, permission="view_device")
    assert not ({host, guest} & set(visible_jobs(people["bob"])))  # bob is not in ops
    assert {host, guest} <= set(visible_jobs(people["carol"]))
