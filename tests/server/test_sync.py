"""``manage sync``: device rows, tags, aliases, owners and group permissions from ``sync_to_lava``."""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError

from lava_scheduler.lab.models import Device
from lava_scheduler.lab.states import DeviceHealth
from lava_scheduler.lab.sync_spec import SyncSpecError, read_sync_spec
from lava_scheduler.permissions.models import GroupDevicePermission
from lava_scheduler.permissions.rules import SUBMIT, device_allows

SYNCED = """{% extends 'qemu.jinja2' %}
{% set sync_to_lava = {
  'device_type': 'qemu',
  'worker': 'rack-1',
  'tags': ['usb', 'fast'],
  'aliases': ['kvm'],
  'physical_owner': 'alice',
  'physical_group': 'team-a',
  'group_device_permissions': [['submit_to_device', 'team-a'], ['view_device', 'team-a']],
} %}
"""


def sync(*args) -> str:
    out = io.StringIO()
    call_command("sync", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def devices_path(settings, tmp_path):
    settings.DEVICES_PATH = tmp_path / "devices"
    settings.DEVICES_PATH.mkdir()
    return settings.DEVICES_PATH


def test_sync_creates_updates_and_retires(db, devices_path):
    alice = User.objects.create_user("alice")
    team = Group.objects.create(name="team-a")
    stranger = User.objects.create_user("bob")
    alice.groups.add(team)
    (devices_path / "synced-01.jinja2").write_text(SYNCED)
    (devices_path / "plain-01.jinja2").write_text("{% extends 'qemu.jinja2' %}\n")

    assert "synced-01: would be created" in sync("--dry-run")
    assert not Device.objects.filter(hostname="synced-01").exists()
    assert "1 created, 0 updated, 0 unchanged, 0 retired" in sync()
    device = Device.objects.get(hostname="synced-01")
    assert (device.device_type_id, device.worker_host_id, device.is_synced) == ("qemu", "rack-1", True)
    assert (device.physical_owner, device.physical_group) == (alice, team)
    assert sorted(device.tags.values_list("name", flat=True)) == ["fast", "usb"]
    assert device.device_type.aliases.filter(name="kvm").exists()
    assert device_allows(alice, "synced-01", SUBMIT) and not device_allows(stranger, "synced-01", SUBMIT)
    assert "0 created, 0 updated, 1 unchanged" in sync()

    (devices_path / "synced-01.jinja2").write_text(SYNCED.replace("'usb', 'fast'", "'usb'").replace(
        "[['submit_to_device', 'team-a'], ['view_device', 'team-a']]", "[]"))
    assert "synced-01: updated" in sync()
    assert list(device.tags.values_list("name", flat=True)) == ["usb"]
    assert not GroupDevicePermission.objects.filter(device=device).exists()

    (devices_path / "synced-01.jinja2").unlink()
    assert "synced-01: retired" in sync()
    device.refresh_from_db()
    assert device.health == DeviceHealth.RETIRED  # kept, with its jobs


def test_sync_names_what_is_wrong(db, devices_path):
    (devices_path / "bad-01.jinja2").write_text(SYNCED)  # alice and team-a do not exist
    with pytest.raises(CommandError, match=r"bad-01: sync_to_lava.physical_owner: no user named 'alice'"):
        sync()
    assert not Device.objects.filter(hostname="bad-01").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("{% set sync_to_lava = [] %}", "expected a mapping"),
    ("{% set sync_to_lava = {'worker': 'w'} %}", "sync_to_lava.device_type: required"),
    ("{% set sync_to_lava = {'device_type': 'qemu', 'worker': 'w', 'owner': 1} %}", "unknown key(s) owner"),
    ("{% set sync_to_lava = {'device_type': 'qemu', 'worker': 'w', 'tags': 'usb'} %}", "tags: expected a list"),
    ("{% set sync_to_lava = {'device_type': x, 'worker': 'w'} %}", "must be a constant mapping"),
    ("{% set sync_to_lava = {'device_type': 'qemu', 'worker': 'w', "
     "'group_device_permissions': [['admin', 'g']]} %}", "unknown permission 'admin'"),
    ("{% set sync_to_lava = {", "d.jinja2: line 1"),
])
def test_sync_spec_refusals(text, message):
    with pytest.raises(SyncSpecError) as error:
        read_sync_spec(text, "d.jinja2")
    assert message in str(error.value)


def test_a_dictionary_without_sync_to_lava_has_no_spec():
    assert read_sync_spec("{% extends 'qemu.jinja2' %}\n{% set x = 1 %}", "d.jinja2") is None
