"""CURVE authentication of workers: which worker each recorded public key opens.

A key opens exactly one worker: the one whose row carries it. The ZAP handler
lets in only connections whose key opens a worker, and the master maps the key
of every message (its ``User-Id``) to that worker again, so a key taken off a
worker stops counting within a second, even on a connection already open.
"""

import logging
from collections import defaultdict

from lava_scheduler.lab.models import Worker

log = logging.getLogger("lava-master")


class WorkerKeys:
    """ZAP credentials provider and the key -> worker map.

    The authenticator calls ``callback`` from its own (asyncio) thread, where
    the database must not be used: the master's loop ``refresh``es the map
    every second instead, and the callback only reads it.
    """

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}  # public key (Z85) -> worker hostname
        self._shared: frozenset[str] = frozenset()  # keys recorded on several workers: they open none

    def refresh(self) -> None:
        holders: dict[str, list[str]] = defaultdict(list)
        for hostname, key in Worker.objects.exclude(public_key="").values_list("hostname", "public_key"):
            holders[key].append(hostname)
        shared = frozenset(key for key, hostnames in holders.items() if len(hostnames) > 1)
        for key in shared - self._shared:
            log.error("CURVE key %s is recorded on workers %s: it opens none of them until each has its own",
                      key, ", ".join(sorted(holders[key])))
        self._shared = shared
        self.owners = {key: hostnames[0] for key, hostnames in holders.items() if key not in shared}

    def owner(self, key: str) -> str | None:
        """The worker this key opens, if any."""
        return self.owners.get(key)

    def callback(self, domain: str, key: bytes) -> bool:
        text = key.decode("ascii")
        allowed = text in self.owners
        if not allowed:
            log.warning("refused a connection with CURVE key %s: it is no worker's key", text)
        return allowed


def start_authenticator(context, keys: WorkerKeys, socket_domain: str = "*"):
    # deferred: the ZAP thread machinery (asyncio) is only needed by a master that uses CURVE
    from zmq.auth.thread import ThreadAuthenticator

    authenticator = ThreadAuthenticator(context, log=logging.getLogger("lava-master.zap"))
    authenticator.start()
    authenticator.configure_curve_callback(domain=socket_domain, credentials_provider=keys)
    return authenticator
