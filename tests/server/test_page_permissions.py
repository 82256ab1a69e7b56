"""What a user may not see is read once per web page, never remembered beyond it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lava_scheduler.permissions.rules import VIEW, hidden_device_types, hidden_devices, remember_for_the_page

pytestmark = pytest.mark.django_db


def test_a_page_reads_the_hidden_devices_once(user, device, django_assert_num_queries):
    remember_for_the_page(user)
    first = hidden_devices(user, VIEW), hidden_device_types(user, VIEW)
    with django_assert_num_queries(0):
        assert (hidden_devices(user, VIEW), hidden_device_types(user, VIEW)) == first


def test_outside_a_page_every_call_reads_the_permissions(user, device):
    hidden_devices(user, VIEW)
    with CaptureQueriesContext(connection) as queries:
        hidden_devices(user, VIEW)
    assert len(queries) > 0


def test_an_open_lab_hides_nothing_without_asking_who_the_user_is(user, device, django_assert_num_queries):
    from django.contrib.auth.models import Group

    from lava_scheduler.permissions.models import GroupDevicePermission, GroupDeviceTypePermission

    remember_for_the_page(user)
    with django_assert_num_queries(2):  # the device rows and the device-type rows, read once for both
        assert hidden_devices(user, VIEW) == set() and hidden_device_types(user, VIEW) == set()
    # once a row restricts a device, the rule asks for the user's privileges and groups again
    team = Group.objects.create(name="team")
    GroupDevicePermission.objects.create(device=device, group=team, permission="view_device")
    remember_for_the_page(user)
    assert hidden_devices(user, VIEW) == {device.hostname} and hidden_device_types(user, VIEW) == set()
    user.groups.add(team)
    user = type(user).objects.get(pk=user.pk)  # a fresh user: Django remembers permissions on the object
    remember_for_the_page(user)
    assert hidden_devices(user, VIEW) == set()
    GroupDevicePermission.objects.all().delete()
    GroupDeviceTypePermission.objects.create(device_type=device.device_type, group=Group.objects.create(name="other"),
                                             permission="view_devicetype")
    remember_for_the_page(user)
    assert hidden_devices(user, VIEW) == {device.hostname}
    assert hidden_device_types(user, VIEW) == {device.device_type_id}
