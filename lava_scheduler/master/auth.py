"""CURVE authentication of workers against the keys recorded on Worker rows."""

import logging

from lava_scheduler.lab.models import Worker

log = logging.getLogger("lava-master")


class WorkerKeys:
    """ZAP credentials provider: a key is allowed when a worker row carries it.

    The authenticator calls ``callback`` from its own (asyncio) thread, where
    the database must not be used: the master's loop ``refresh``es the set of
    allowed keys every second instead. The master also checks, for every
    message, that the key is the one of the worker the identity names.
    """

    def __init__(self) -> None:
        self.allowed: frozenset[str] = frozenset()

    def refresh(self) -> None:
        self.allowed = frozenset(Worker.objects.exclude(public_key="").values_list("public_key", flat=True))

    def callback(self, domain: str, key: bytes) -> bool:
        allowed = key.decode("ascii") in self.allowed
        if not allowed:
            log.warning("refused a connection with an unknown CURVE key %s", key.decode("ascii"))
        return allowed


def start_authenticator(context, keys: WorkerKeys, socket_domain: str = "*"):
    from zmq.auth.thread import ThreadAuthenticator

    authenticator = ThreadAuthenticator(context, log=logging.getLogger("lava-master.zap"))
    authenticator.start()
    authenticator.configure_curve_callback(domain=socket_domain, credentials_provider=keys)
    return authenticator
