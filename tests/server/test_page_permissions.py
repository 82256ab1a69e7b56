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
