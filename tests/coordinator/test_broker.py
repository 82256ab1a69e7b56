"""The coordinator's protocol, request by request, on the Broker alone (no sockets)."""

import pytest

from lava_common.coordinator.broker import Broker
from lava_common.coordinator.config import ConfigError, parse_config
from lava_common.coordinator.wire import MAX_MESSAGE_LENGTH, WireError, decode, encode

GROUP = "0e7c6b2a-group"


def ask(broker, client, request, **fields):
    return broker.handle({"request": request, "client_name": client, "group_name": GROUP, **fields})


def register(broker, roles):
    for client, role in roles.items():
        ask(broker, client, "group_data", group_size=len(roles), role=role, hostname="worker1")


@pytest.fixture
def trio():
    broker = Broker()
    register(broker, {"10": "server", "11": "client", "12": "client"})
    return broker


def test_frames_are_eight_hex_digits_and_json():
    frame = encode({"request": "lava_send"})
    assert frame[:8] == b"%08X" % (len(frame) - 8)
    assert decode(frame) == {"request": "lava_send"}


@pytest.mark.parametrize("frame,reason", [
    (b"0000000Zxx", "hex digits"),
    (b"00000002[]", "JSON object"),
    (b"00000003{}", "announces 3"),
    (b"%08X" % (MAX_MESSAGE_LENGTH + 1), "limit"),
    (b"00000002\xff\xfe", "JSON"),
])
def test_bad_frames_say_what_is_wrong(frame, reason):
    with pytest.raises(WireError, match=reason):
        decode(frame)


def test_too_long_a_message_is_refused_before_sending():
    with pytest.raises(WireError, match="limit"):
        encode({"message": {"k": "v" * MAX_MESSAGE_LENGTH}})


def test_group_data_waits_for_every_member_then_gives_the_roles():
    broker = Broker()
    first = ask(broker, "10", "group_data", group_size=2, role="server")
    assert first["response"] == "wait"
    ask(broker, "11", "group_data", group_size=2, role="client")
    assert ask(broker, "10", "group_data", group_size=2, role="server") == {
        "response": "group_data", "roles": {"10": "server", "11": "client"}}


def test_send_then_wait_gives_the_key_values_to_every_member_the_sender_included(trio):
    assert ask(trio, "11", "lava_wait", messageID="ready")["waiting_for"] == ["10 (server)", "11 (client)", "12 (client)"]
    assert ask(trio, "10", "lava_send", messageID="ready", message={"ip": "10.0.0.1", "port": 5201})["response"] == "ack"
    reply = ask(trio, "11", "lava_wait", messageID="ready")
    assert reply == {"response": "ack", "message": {"10": {"ip": "10.0.0.1", "port": "5201"}}}
    # as the reference: messages stay, and the sender sees its own
    assert ask(trio, "11", "lava_wait", messageID="ready") == reply
    assert ask(trio, "10", "lava_wait", messageID="ready") == reply
    ask(trio, "10", "lava_send", messageID="ready", message={"ip": "10.0.0.2"})
    assert ask(trio, "12", "lava_wait", messageID="ready")["message"] == {"10": {"ip": "10.0.0.2"}}


def test_wait_all_over_the_whole_group_needs_the_waiters_own_send(trio):
    ask(trio, "11", "lava_send", messageID="n")
    ask(trio, "12", "lava_send", messageID="n")
    assert ask(trio, "10", "lava_wait_all", messageID="n")["waiting_for"] == ["10 (server)"]
    ask(trio, "10", "lava_send", messageID="n", message={"a": "1"})
    assert ask(trio, "10", "lava_wait_all", messageID="n") == {
        "response": "ack", "message": {"10": {"a": "1"}, "11": {}, "12": {}}}


def test_wait_all_with_a_role_filter(trio):
    ask(trio, "11", "lava_send", messageID="done", message={"rate": "9"})
    assert ask(trio, "10", "lava_wait_all", messageID="done", waitrole="client") == {
        "response": "wait", "waiting_for": ["12 (client)"], "message": "message 'done'"}
    ask(trio, "12", "lava_send", messageID="done")
    assert ask(trio, "10", "lava_wait_all", messageID="done", waitrole="client") == {
        "response": "ack", "message": {"11": {"rate": "9"}, "12": {}}}
    reply = ask(trio, "10", "lava_wait_all", messageID="done", waitrole="nobody")
    assert reply["response"] == "nack" and "no member has role 'nobody'" in reply["error"]


def test_sync_holds_everyone_until_the_last_arrives_and_can_be_reused(trio):
    assert ask(trio, "10", "lava_sync", messageID="go")["waiting_for"] == ["11 (client)", "12 (client)"]
    assert ask(trio, "11", "lava_sync", messageID="go")["response"] == "wait"
    assert ask(trio, "12", "lava_sync", messageID="go") == {"response": "ack", "message": "go"}
    assert ask(trio, "10", "lava_sync", messageID="go")["response"] == "ack"
    assert ask(trio, "12", "lava_sync", messageID="go")["response"] == "wait"  # next round, 11 not out yet
    assert ask(trio, "11", "lava_sync", messageID="go")["response"] == "ack"
    assert "go" not in trio.groups[GROUP].syncs
    assert ask(trio, "12", "lava_sync", messageID="go")["waiting_for"] == ["10 (server)", "11 (client)"]


def test_a_member_that_left_fails_the_waiters_at_once(trio):
    ask(trio, "10", "lava_sync", messageID="go")
    assert ask(trio, "12", "complete")["response"] == "ack"
    reply = ask(trio, "10", "lava_sync", messageID="go")
    assert reply["response"] == "nack" and "12 (client) left the group" in reply["error"]
    reply = ask(trio, "10", "lava_wait_all", messageID="x")
    assert reply["response"] == "nack" and "12 (client) left the group without sending it" in reply["error"]


def test_the_group_is_forgotten_when_the_last_member_leaves(trio):
    for client in ("10", "11", "12"):
        ask(trio, client, "clear_group")
    assert trio.groups == {}


def test_idle_groups_expire():
    now = [0.0]
    broker = Broker(clock=lambda: now[0], expiry=60)
    register(broker, {"1": "a", "2": "b"})
    now[0] = 61
    reply = ask(broker, "1", "lava_send", messageID="x")
    assert reply["response"] == "nack" and "unknown" in reply["error"]


@pytest.mark.parametrize("request_,reason", [
    ({"request": "dance"}, "unknown request 'dance'"),
    ({"request": "lava_send", "group_name": GROUP}, "'client_name': required"),
    ({"request": "lava_send", "client_name": "1", "group_name": GROUP}, "unknown: register"),
    ({"request": "group_data", "client_name": "1", "group_name": GROUP, "group_size": "2", "role": "a"},
     "'group_size': must be a positive integer"),
    ({"request": "group_data", "client_name": "1", "group_name": GROUP, "group_size": 2}, "'role': required"),
    ({"request": "aggregate", "client_name": "1", "group_name": GROUP, "group_size": 1, "role": "a"}, "not supported"),
])
def test_hostile_requests_get_a_nack_with_the_reason(request_, reason):
    reply = Broker().handle(request_)
    assert reply["response"] == "nack"
    assert reason in reply["error"]


def test_membership_rules(trio):
    reply = ask(trio, "13", "group_data", group_size=3, role="client")
    assert reply["response"] == "nack" and "one too many" in reply["error"]
    reply = ask(trio, "10", "group_data", group_size=4, role="server")
    assert reply["response"] == "nack" and "has 3 members" in reply["error"]
    reply = ask(trio, "99", "lava_send", messageID="x")
    assert reply["response"] == "nack" and "not a member" in reply["error"]
    reply = ask(trio, "10", "lava_send", messageID="x", message=["a"])
    assert reply["response"] == "nack" and "'message'" in reply["error"]


def test_config_file():
    config = parse_config('{"port": 3080, "blocksize": 4096, "poll_delay": 3, "coordinator_hostname": "h", "logging_level": "DEBUG"}')
    assert (config.port, config.poll_delay, config.coordinator_hostname) == (3080, 3, "h")
    for text, reason in (("[", "not JSON"), ('{"port": "x"}', "'port' has the wrong type"), ('{"port": 0}', "1-65535")):
        with pytest.raises(ConfigError, match=reason):
            parse_config(text, "c.conf")
