"""The lava-multinode protocol of lava-run: its settings, the console signals and the reply lines."""

from __future__ import annotations

import pytest

from lava_common.exceptions import JobError, TestError
from lava_dispatcher.protocols.multinode import MultinodeProtocol, format_message
from lava_dispatcher.protocols.multinode_job import (
    MultinodeCall,
    MultinodeSettings,
    parse_signal,
    without_protocol,
)
from lava_dispatcher.protocols.multinode_network import GroupNetwork
from lava_dispatcher.protocols.multinode_requests import ActionRequest, action_requests

from .helpers import HERE, job_result, run_lava

GOOD = {"target_group": "g", "role": "server", "roles": {"1": "server", "2": "client"}, "group_size": 2,
        "sub_id": 0, "timeout": {"minutes": 2}, "essential": True, "request": "lava-start", "expect_role": "client"}


def settings(**changes):
    return MultinodeSettings.from_job({"protocols": {"lava-multinode": {**GOOD, **changes}}})


def test_settings_of_a_sub_job():
    got = settings()
    assert (got.target_group, got.role, got.group_size, got.timeout, got.essential, got.expect_role) == (
        "g", "server", 2, 120.0, True, "client")
    assert settings(timeout=None).timeout == 90.0  # the reference's LAVA_MULTINODE_SYSTEM_TIMEOUT
    assert settings(request=None).expect_role is None
    assert MultinodeSettings.from_job({"job_name": "single"}) is None


@pytest.mark.parametrize("changes,error", [
    ({"role": ""}, "protocols.lava-multinode.role: required"),
    ({"role": "nobody"}, "protocols.lava-multinode.role: 'nobody' is not in roles (client, server)"),
    ({"roles": {"1": {"count": 1}}}, "protocols.lava-multinode.roles: required, a mapping of job id to role name"),
    ({"group_size": 3}, "protocols.lava-multinode.group_size: 3, but roles lists 2 members"),
    ({"group_size": True}, "protocols.lava-multinode.group_size: required, a positive integer"),
    ({"timeout": 5}, "protocols.lava-multinode.timeout: must be a mapping"),
    ({"essential": "yes"}, "protocols.lava-multinode.essential: must be true or false"),
    ({"expect_role": "ghost"}, "protocols.lava-multinode.expect_role: 'ghost' is not a role of the group"),
])
def test_bad_settings_say_which_field(changes, error):
    with pytest.raises(JobError) as exc:
        settings(**changes)
    assert error in str(exc.value)


CLIENT_BOOT = {"method": "qemu", "protocols": {"lava-multinode": [
    {"action": "execute-qemu", "request": "lava-wait", "messageID": "test", "message": {"ipv4": "$IPV4"}}]}}
CLIENT_DEPLOY = {"to": "tmpfs", "protocols": {"lava-multinode": [
    {"action": "customise", "request": "lava-send", "messageID": "test", "message": {"key": "value"},
     "timeout": {"seconds": 30}}]}}


def test_action_level_requests_are_parsed():
    requests, errors = action_requests(CLIENT_DEPLOY, "actions[0].deploy")
    assert errors == []
    assert requests == [ActionRequest("SEND", "test", {"key": "value"}, 30.0, None, "customise")]
    (wait,), _ = action_requests(CLIENT_BOOT, "actions[1].boot")
    assert (wait.api, wait.timeout, wait.variables()) == ("WAIT", None, {"IPV4": "ipv4"})
    job = {"protocols": {"lava-multinode": GOOD}, "actions": [{"deploy": CLIENT_DEPLOY}, {"boot": CLIENT_BOOT}]}
    assert MultinodeSettings.from_job(job).role == "server"


@pytest.mark.parametrize("request_,error", [
    ("not-a-list", "actions[1].boot.protocols.lava-multinode: must be a list of requests"),
    ([{"request": "lava-dance", "messageID": "x"}], "[0].request: 'lava-dance' is not one of lava-send"),
    ([{"request": "lava-wait"}], "[0].messageID: required"),
    ([{"request": "lava-send", "messageID": "a b"}], "[0].messageID: required, letters, digits"),
    ([{"request": "lava-send", "messageID": "x", "message": {"k": "two words"}}], "[0].message.k: must be one word"),
    ([{"request": "lava-wait", "messageID": "x", "timeout": 5}], "[0].timeout: must be a mapping"),
    ([{"request": "lava-wait", "messageID": "x", "role": "client"}], "[0].role: only for lava-wait-all"),
])
def test_bad_action_level_requests_say_which_field(request_, error):
    job = {"protocols": {"lava-multinode": GOOD},
           "actions": [{"deploy": {"to": "tmpfs"}}, {"boot": {"method": "qemu", "protocols": {"lava-multinode": request_}}}]}
    with pytest.raises(JobError) as exc:
        MultinodeSettings.from_job(job)
    assert error in str(exc.value)


def test_action_level_requests_run_in_order_and_fill_their_variables():
    client = FakeClient({"response": "ack", "message": {"2": {"ipv4": "10.9.0.2"}}})
    recorded = []
    protocol = MultinodeProtocol(settings(), "1", client, record=recorded.append)
    protocol.before_action("deploy-tmpfs", CLIENT_DEPLOY, "actions[0].deploy")
    protocol.before_action("boot-qemu", CLIENT_BOOT, "actions[1].boot")
    (send, _, _), (wait, timeout, what) = [r for r in client.requests]
    assert (send["request"], send["message"], wait["request"], wait["messageID"]) == (
        "lava_send", {"key": "value"}, "lava_wait", "test")
    assert (timeout, what) == (120.0, "lava-wait test")
    assert protocol.received == {"IPV4": "10.9.0.2"}
    assert [(r["case"], r["result"], r["extra"]["origin"]) for r in recorded] == [
        ("multinode-send-test", "pass", "customise"), ("multinode-wait-test", "pass", "execute-qemu")]
    assert recorded[1]["extra"]["received"] == {"2": {"ipv4": "10.9.0.2"}}


def test_signals_from_the_console():
    assert parse_signal("<LAVA_MULTI_NODE> <LAVA_SEND ready ip=10.0.0.1 port=1>") == MultinodeCall(
        "SEND", "ready", ("ip=10.0.0.1", "port=1"))
    assert parse_signal("[   12.3] <LAVA_MULTI_NODE> <LAVA_WAIT_ALL done client>") == MultinodeCall(
        "WAIT_ALL", "done", ("client",))
    assert parse_signal("<LAVA_MULTI_NODE> <LAVA_SYNC end>\r") == MultinodeCall("SYNC", "end", ())
    assert parse_signal("<LAVA_WAIT_COMPLETE 1:ip=10.0.0.1>") is None  # our own reply, echoed by the tty
    assert parse_signal("<LAVA_MULTI_NODE> <LAVA_DANCE x>") is None


def test_replies_in_the_reference_format():
    assert format_message({"1": {"ip": "10.0.0.1", "port": "1"}, "2": {}}) == " 1:ip=10.0.0.1 1:port=1"
    assert format_message(None) == ""


class FakeClient:
    """Records the requests; the real coordinator is in test_multinode_helpers and test_multinode_qemu."""

    host, port = "fake", 0

    def __init__(self, reply):
        self.reply, self.requests = reply, []

    def call(self, request, timeout, what):
        self.requests.append((request, timeout, what))
        return self.reply


def test_serve_builds_the_request_and_the_reply_line():
    client = FakeClient({"response": "ack", "message": {"2": {"rate": "9"}}})
    protocol = MultinodeProtocol(settings(), "1", client)
    assert protocol.serve(MultinodeCall("WAIT_ALL", "done", ("client",))) == "<LAVA_WAIT_ALL_COMPLETE 2:rate=9>"
    request, timeout, what = client.requests[-1]
    assert (request["request"], request["messageID"], request["waitrole"], request["client_name"]) == (
        "lava_wait_all", "done", "client", "1")
    assert (request["group_name"], request["group_size"], request["role"], timeout, what) == (
        "g", 2, "server", 120.0, "lava-wait-all done")
    assert protocol.serve(MultinodeCall("SEND", "x", ("a=1", "b=c=d"))) == "<LAVA_SEND_COMPLETE>"
    assert client.requests[-1][0]["message"] == {"a": "1", "b": "c=d"}
    with pytest.raises(TestError, match="'novalue' is not key=value"):
        protocol.serve(MultinodeCall("SEND", "x", ("novalue",)))
    with pytest.raises(TestError, match="message id must be"):
        protocol.serve(MultinodeCall("SYNC", "", ()))


def test_initialise_checks_membership_and_waits_for_the_expected_role():
    client = FakeClient({"response": "group_data", "roles": {"1": "server", "2": "client"}})
    protocol = MultinodeProtocol(settings(), "1", client)
    protocol.initialise()
    assert [r[0]["request"] for r in client.requests] == ["group_data", "lava_wait_all"]
    assert client.requests[1][0]["messageID"] == "lava_start" and client.requests[1][0]["waitrole"] == "client"
    protocol.finalise()
    assert client.requests[-1][0]["request"] == "clear_group"
    with pytest.raises(JobError, match=r"this job \(7\) is not one of the group's members"):
        MultinodeProtocol(settings(), "7", client).initialise()


def test_the_sub_job_passes_the_schema_without_its_protocol_block():
    stripped = without_protocol({"job_name": "x", "protocols": {"lava-multinode": GOOD, "lava-xnbd": {}}})
    assert stripped == {"job_name": "x", "protocols": {"lava-xnbd": {}}}


def test_lava_run_validates_a_sub_job_and_names_a_bad_field(tmp_path):
    job = {"job_name": "mn", "device_type": "fake", "visibility": "public",
           "timeouts": {"job": {"minutes": 1}, "action": {"seconds": 30}},
           "protocols": {"lava-multinode": {**GOOD, "request": None, "expect_role": None}},
           "actions": [{"boot": {"method": "minimal", "reset": False, "prompts": ["fake-board# "], "role": ["server"]}}]}
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "fake-board.yaml", "--validate")
    assert proc.returncode == 0, proc.stderr[-2000:]
    job["protocols"]["lava-multinode"]["group_size"] = 5
    proc, records, _ = run_lava(tmp_path, job, HERE / "devices" / "fake-board.yaml", "--validate")
    assert "protocols.lava-multinode.group_size: 5, but roles lists 2 members" in job_result(records)["error_msg"]


def test_group_network_gives_each_member_its_address_and_card():
    roles = {"9": "server", "10": "client", "11": "client"}
    members = [GroupNetwork.for_member("group-uuid", roles, job) for job in ("9", "10", "11")]
    assert [m.index for m in members] == [0, 1, 2]  # by job id as a number: "9" before "10"
    assert len({m.address for m in members}) == 3 and len({m.mac for m in members}) == 3
    assert {(m.subnet, m.multicast, m.port) for m in members} == {(members[0].subnet, members[0].multicast,
                                                                   members[0].port)}
    first = members[0]
    assert first.address == f"10.{first.subnet[0]}.{first.subnet[1]}.1/24" and 100 <= first.subnet[0] < 228
    assert first.mac == f"52:54:00:{first.subnet[0]:02x}:{first.subnet[1]:02x}:01"
    assert first.qemu_args() == [
        "-netdev", f"socket,id=lavamn0,mcast={first.multicast}:{first.port},localaddr=127.0.0.1",
        "-device", f"virtio-net-pci,netdev=lavamn0,mac={first.mac},romfile="]
    other = GroupNetwork.for_member("another-group", roles, "9")
    assert (other.multicast, other.port) != (first.multicast, first.port)


def test_the_network_is_asked_for_in_the_protocol_block():
    assert MultinodeProtocol(settings(network=True), "1", FakeClient({})).network.index == 0
    assert MultinodeProtocol(settings(), "1", FakeClient({})).network is None
    with pytest.raises(JobError, match="protocols.lava-multinode.network: must be true or false"):
        settings(network="yes")
