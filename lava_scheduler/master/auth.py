"""CURVE authentication of workers against the keys recorded on Worker rows."""

import logging

from django.db import close_old_connections

from lava_scheduler.lab.models import Worker

log = logging.getLogger("lava-master")


class WorkerKeys:
    """ZAP credentials provider: a key is allowed when a worker row carries it.

    Called from the authenticator's thread for each new connection; the
    master also checks, for every message, that the key matches the row of
    the identity the worker claims (``owner_of``).
    """

    def callback(self, domain: str, key: bytes) -> bool:
        close_old_connections()
        allowed = Worker.objects.filter(public_key=key.decode("ascii")).exists()
        if not allowed:
            log.warning("refused a connection with an unknown CURVE key %s", key.decode("ascii"))
        return allowed


def start_authenticator(context, socket_domain: str = "*"):
    from zmq.auth.thread import ThreadAuthenticator

    authenticator = ThreadAuthenticator(context, log=logging.getLogger("lava-master.zap"))
    authenticator.start()
    authenticator.configure_curve_callback(domain=socket_domain, credentials_provider=WorkerKeys())
    return authenticator
