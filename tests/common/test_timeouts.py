"""The one timeout model: units add up, malformed blocks read as 'not set', both schemas use its units."""

import pytest

from lava_common.schemas.device import DeviceSchemaError, validate_device
from lava_common.timeouts import DEFAULT_ACTION_TIMEOUT, UNITS, TimeoutSources, timeout_seconds


def test_units_add_up():
    assert timeout_seconds({"minutes": 5}) == 300
    assert timeout_seconds({"hours": 1, "minutes": 30, "skip": True}) == 5400
    assert timeout_seconds({"seconds": 0}) == 0


def test_anything_else_is_not_a_timeout():
    for value in (None, 5, "5m", {}, {"skip": True}, {"minutes": "5"}, {"minutes": -1}, {"minutes": True}):
        assert timeout_seconds(value) is None, value


def test_a_malformed_block_falls_back_to_the_next_source():
    sources = TimeoutSources(job={"action": {"minutes": 1}}, device={"actions": {"x": {"mins": 2}}})
    assert sources.action_timeout("x", {}).duration == 60
    assert TimeoutSources({}, {}).action_timeout("x", {"timeout": {"minutes": "1"}}).duration == DEFAULT_ACTION_TIMEOUT


def device_with_timeout(timeout):
    return {"constants": {}, "parameters": {}, "actions": {}, "timeouts": {"actions": {"x": timeout}}}


def test_device_schema_takes_its_units_from_the_model():
    with pytest.raises(DeviceSchemaError, match=f"expected one of {', '.join(UNITS)}"):
        validate_device(device_with_timeout({"weeks": 1}))


def test_device_schema_refuses_a_key_that_is_not_a_unit_as_the_job_schema_does():
    with pytest.raises(DeviceSchemaError, match=r"timeouts\.actions\.x\.mins: unknown timeout unit"):
        validate_device(device_with_timeout({"minutes": 1, "mins": 2}))
