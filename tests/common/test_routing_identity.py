"""Routing identities of workers: NAME/NONCE, a new nonce per connection."""

import pytest

from lava_common.worker_identity import MAX_NAME_BYTES, claimed_name, routing_identity


def test_each_connection_gets_its_own_identity_naming_the_worker():
    first, second = routing_identity("worker-1"), routing_identity("worker-1")
    assert first != second and len(first) <= 255
    assert claimed_name(first) == claimed_name(second) == "worker-1"


@pytest.mark.parametrize("identity", [
    b"worker-1",  # a bare name: guessable, so anyone could take it over
    b"worker-1/",
    b"/" + b"a" * 32,
    b"worker-1/" + b"a" * 31,
    b"worker-1/" + b"g" * 32,
    b"\xff\xfe/" + b"a" * 32,
    b"\x00\x12\x34\x56\x78",  # what ZeroMQ makes up for a peer that gives no identity
])  # fmt: skip
def test_identities_not_of_the_form_name_nonce_claim_nothing(identity):
    assert claimed_name(identity) is None


@pytest.mark.parametrize("name", ["", "a/b", "x" * (MAX_NAME_BYTES + 1)])
def test_names_that_cannot_make_an_identity(name):
    with pytest.raises(ValueError, match="without '/'"):
        routing_identity(name)
    assert claimed_name(routing_identity("x" * MAX_NAME_BYTES)) == "x" * MAX_NAME_BYTES
