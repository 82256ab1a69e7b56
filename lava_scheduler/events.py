"""Wake-up calls between the lab's processes.

Submission, job end and device or worker changes must reach the scheduler at
once, and new work must reach the master at once. Each daemon binds a ZeroMQ
PULL socket; anyone PUSHes a one-word hint there after their transaction
commits. Hints may be lost (a daemon down): the daemons' periodic passes
cover that, hints only make them fast.
"""

import threading

from django.conf import settings
from django.db import transaction

_local = threading.local()


def _socket(address: str, high_water_mark: int = 100):
    import zmq

    sockets = getattr(_local, "sockets", None)
    if sockets is None:
        sockets = _local.sockets = {}
    sock = sockets.get(address)
    if sock is None:
        sock = zmq.Context.instance().socket(zmq.PUSH)
        sock.setsockopt(zmq.LINGER, 200)
        sock.setsockopt(zmq.SNDHWM, high_water_mark)
        sock.connect(address)
        sockets[address] = sock
    return sock


def _send(address: str, hint: str) -> None:
    import zmq

    try:
        _socket(address).send_string(hint, zmq.NOBLOCK)
    except zmq.Again:
        pass  # nobody listening, or already plenty of hints queued


def send_messages(address: str, messages: list[list[bytes]], high_water_mark: int = 10000) -> None:
    """PUSH multipart messages without waiting (dropped when nobody listens and the queue is full)."""
    import zmq

    sock = _socket(address, high_water_mark)
    # frame by frame with plain int flags through the backend's send: send_multipart() costs five
    # times more (the scheduler sends two thousand messages a pass); a multipart message is queued
    # whole or not at all
    more, last = int(zmq.SNDMORE | zmq.NOBLOCK), int(zmq.NOBLOCK)
    send = zmq.backend.Socket.send
    try:
        for frames in messages:
            for frame in frames[:-1]:
                send(sock, frame, more)
            send(sock, frames[-1], last)
    except zmq.Again:
        pass


def wake_scheduler(hint: str = "jobs") -> None:
    """Ask the scheduler for a pass once the current transaction commits."""
    transaction.on_commit(lambda: _send(settings.SCHEDULER_EVENTS, hint))


def wake_master(hint: str = "jobs") -> None:
    """Ask the master to send pending starts and cancels once the current transaction commits."""
    transaction.on_commit(lambda: _send(settings.MASTER_EVENTS, hint))
