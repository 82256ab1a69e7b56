"""The indexes the scheduler's writes pay for, and the array filters of its pass."""

import pytest
from django.db import connection

from lava_scheduler.lab.models import Device
from lava_scheduler.scheduler.any_of import any_of, pg_array

pytestmark = pytest.mark.django_db


def indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def test_no_job_index_repeats_another_and_the_constraints_remain():
    found = indexes("jobs_testjob")
    assert not {name for name in found if name.endswith("_like")}
    for dropped in ("jobs_testjob_actual_device_id_cc514e6d", "jobs_testjob_requested_device_type_id_abcaf86d",
                    "jobs_testjob_requested_device_id_e3c69fbe", "jobs_testjob_target_group_bd63bd63",
                    "job_queue_per_type"):
        assert dropped not in found
    assert {"one_unfinished_job_per_device", "unique_sub_id", "job_device_submit", "job_type_submit", "job_queue",
            "job_requested_device", "job_requested_worker", "job_target_group"} <= found


def test_device_state_changes_touch_no_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'lab_device'")
        definitions = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'lab_device'")
        options = cursor.fetchone()[0]
    columns = [d.split("btree (", 1)[1] for d in definitions]
    assert not [c for c in columns if c.startswith(("state", "health")) or ", state" in c or ", health" in c]
    assert options == ["fillfactor=50"]


def test_array_literals_quote_what_would_be_syntax():
    assert pg_array([3, 1, 2]) == "{3,1,2}"
    assert pg_array(['a"b', "c,d", "e\\f", "NULL"]) == '{"a\\"b","c,d","e\\\\f","NULL"}'
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [pg_array(['a"b', "c,d", "e\\f", "NULL", "{x}"])])
        assert cursor.fetchone()[0] == ['a"b', "c,d", "e\\f", "NULL", "{x}"]


def test_any_of_filters_like_in(device):
    assert list(Device.objects.filter(any_of("hostname", [device.hostname, "nope"])).values_list("pk", flat=True)) == [
        device.hostname]
    assert not Device.objects.filter(any_of("hostname", [])).exists()
    assert Device.objects.filter(any_of("worker_host", [device.worker_host_id])).count() == 1


def test_the_links_the_scheduler_writes_are_not_checked_by_the_database():
    """History rows' links (lab 0003) and a job's device (jobs 0011, unlinked by a trigger when the
    device goes); the links written at submission keep their constraints."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, attname, confrelid::regclass::text FROM pg_constraint"
                       " JOIN pg_attribute ON attrelid = conrelid AND attnum = conkey[1] WHERE contype = 'f'"
                       " AND conrelid IN ('lab_devicetransition'::regclass, 'jobs_testjob'::regclass)")
        links = set(cursor.fetchall())
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'lab_device'::regclass AND NOT tgisinternal")
        triggers = {row[0] for row in cursor.fetchall()}
    assert ("lab_devicetransition", "device_id", "lab_device") not in links
    assert ("lab_devicetransition", "job_id", "jobs_testjob") not in links
    assert ("lab_devicetransition", "user_id", "auth_user") in links
    assert ("jobs_testjob", "actual_device_id", "lab_device") not in links
    assert ("jobs_testjob", "requested_device_id", "lab_device") in links
    assert triggers == {"jobs_unlink_deleted_device"}


def test_history_rows_pay_no_index_of_their_creation_time():
    assert indexes("lab_devicetransition") == {"lab_devicetransition_pkey", "lab_devicetransition_job_id_fbed2b5f",
                                               "transition_device_time", "transition_user"}


def test_array_literals_of_plain_texts_and_lone_quotes():
    assert pg_array(["a", "b", "c"]) == '{"a","b","c"}'
    assert pg_array(['"']) == '{"\\""}' and pg_array(['a', '"']) == '{"a","\\""}'
    assert pg_array([]) == "{}"
