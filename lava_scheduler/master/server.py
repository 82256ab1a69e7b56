"""The master's loop: one ROUTER socket for workers, one PULL socket for wake-up hints."""

import logging
import time
from dataclasses import dataclass, field

import zmq
import zmq.auth
from django.db import DatabaseError, close_old_connections, connection, transaction

from lava_common.protocol import DEFAULT_HEARTBEAT, ProtocolError, decode, encode
from lava_common.worker_identity import claimed_name
from lava_scheduler.device_config import DeviceConfigError
from lava_scheduler.jobs.dynamic import dynamic_jobs_on, job_worker
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.lab.models import Worker
from lava_scheduler.master.auth import WorkerKeys
from lava_scheduler.master.handlers import HANDLERS
from lava_scheduler.master.jobfiles import start_fields

log = logging.getLogger("lava-master")

START_RESEND = 2.0  # seconds between two `start` of the same job while it is not acknowledged
CANCEL_RESEND = DEFAULT_HEARTBEAT


@dataclass
class MasterConfig:
    bind: str
    events: str
    secret_key_file: str | None = None  # None: plain text (a socket only the lab's users can reach)


@dataclass
class Master:
    """Hands jobs to workers and takes their reports.

    Which worker a message comes from is decided here, never by what the peer
    says: with CURVE, by the worker its key opens (``worker_keys``); in plain
    text, by the name in its routing identity (whoever can open the socket is
    trusted). Replies and jobs for a worker go only to the routing identity of
    the last message accepted from that worker, so a peer that fails the check
    never receives anything meant for the worker it names.
    """

    config: MasterConfig
    connected: dict[str, float] = field(default_factory=dict)  # hostname -> last message time
    sent: dict[tuple[str, int], float] = field(default_factory=dict)  # (kind, job id) -> last sent
    routes: dict[str, bytes] = field(default_factory=dict)  # hostname -> routing identity of its connection
    worker_keys: WorkerKeys | None = None  # CURVE: which worker each key opens; None: plain text
    refused: set[bytes] = field(default_factory=set)  # routing identities already refused (logged once)

    def __post_init__(self) -> None:
        if bool(self.config.secret_key_file) != (self.worker_keys is not None):
            raise ValueError("CURVE (secret_key_file) and worker_keys go together: without the key map "
                             "no message could be tied to a worker")

    def setup(self, context: zmq.Context) -> None:
        self.router = context.socket(zmq.ROUTER)
        # a worker that reconnects takes its identity over at once; safe because an identity carries a
        # per-connection nonce that only that connection knows (lava_common.worker_identity)
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.setsockopt(zmq.LINGER, 0)
        if self.config.secret_key_file:
            public, secret = zmq.auth.load_certificate(self.config.secret_key_file)
            self.router.curve_secretkey = secret
            self.router.curve_publickey = public
            self.router.curve_server = True
        self.router.bind(self.config.bind)
        self.events = context.socket(zmq.PULL)
        self.events.setsockopt(zmq.LINGER, 0)
        self.events.bind(self.config.events)
        self.poller = zmq.Poller()
        self.poller.register(self.router, zmq.POLLIN)
        self.poller.register(self.events, zmq.POLLIN)

    def close(self) -> None:
        self.router.close(0)
        self.events.close(0)

    # receiving

    def _sender(self, routing: bytes, frame: zmq.Frame) -> str | None:
        """The worker a message comes from, or None when it must be dropped (the reason is logged)."""
        claimed = claimed_name(routing)
        if claimed is None:
            self._refuse_peer(routing, logging.WARNING, f"routing identity {routing[:80]!r} is not NAME/NONCE "
                              "(a lava-worker of another version?): message dropped")
            return None
        if self.worker_keys is None:
            if not Worker.objects.filter(pk=claimed).exists():
                self._refuse_peer(routing, logging.WARNING, f"{claimed}: no such worker: message dropped")
                return None
            return claimed
        key = frame.get("User-Id")
        owner = self.worker_keys.owner(key)
        if owner is None:
            self._refuse_peer(routing, logging.WARNING, f"{claimed}: CURVE key {key} opens no worker "
                              "(taken off its worker?): message dropped")
            return None
        if owner != claimed:
            if self.routes.get(claimed) == routing:
                del self.routes[claimed]
            self._refuse_peer(
                routing, logging.ERROR,
                f"refused a connection that presents worker {owner}'s CURVE key under the name {claimed}: "
                f"nothing it sends counts for {claimed} and nothing for {claimed} goes to it",
                reason=f"this connection's CURVE key belongs to worker {owner!r}, not {claimed!r}",
            )
            return None
        return owner

    def _refuse_peer(self, routing: bytes, level: int, message: str, reason: str | None = None) -> None:
        if routing in self.refused:
            level = logging.DEBUG  # said once per connection: a peer that insists must not flood the log
        elif len(self.refused) < 10000:
            self.refused.add(routing)
        log.log(level, message)
        if reason is not None:
            try:  # to the peer's own connection: it tells whoever set that worker up what is wrong
                self.router.send_multipart([routing, encode("refused", reason=reason)])
            except zmq.ZMQError:
                pass

    def receive(self) -> None:
        frames = self.router.recv_multipart(copy=False)
        if len(frames) != 2:
            return
        routing = frames[0].bytes
        hostname = self._sender(routing, frames[1])
        if hostname is None:
            return
        try:
            message = decode(frames[1].bytes)
        except ProtocolError as exc:
            log.warning("%s: bad message: %s", hostname, exc)
            return
        self.routes[hostname] = routing
        self.connected[hostname] = time.monotonic()
        handler = HANDLERS.get(message["type"])
        if handler is None:
            log.warning("%s: unexpected message type %r", hostname, message["type"])
            return
        for reply in handler(hostname, message):
            self.send(hostname, reply)
        if message["type"] == "hello":
            self.send_pending([hostname], force=True)

    def send(self, hostname: str, payload: bytes) -> None:
        routing = self.routes.get(hostname)
        if routing is None:
            log.debug("%s: no accepted connection yet", hostname)
            return
        try:
            self.router.send_multipart([routing, payload])
        except zmq.ZMQError as exc:  # EHOSTUNREACH: the worker went away
            log.debug("%s: not reachable (%s)", hostname, exc)
            self.connected.pop(hostname, None)

    # sending what workers are owed

    def send_pending(self, hostnames: list[str], force: bool = False) -> None:
        if not hostnames:
            return
        now = time.monotonic()
        states = (JobState.SCHEDULED, JobState.CANCELING)
        jobs = list(TestJob.objects.select_related("actual_device").filter(
            state__in=states, actual_device__worker_host__in=hostnames
        ))
        jobs += dynamic_jobs_on(hostnames, states)
        for job in jobs:
            kind = "start" if job.state == JobState.SCHEDULED else "cancel"
            delay = START_RESEND if kind == "start" else CANCEL_RESEND
            if not force and now - self.sent.get((kind, job.pk), -delay) < delay:
                continue
            self.sent[(kind, job.pk)] = now
            hostname = job_worker(job)
            if kind == "cancel":
                self.send(hostname, encode("cancel", job_id=job.pk))
                continue
            try:
                fields = start_fields(job)
            except DeviceConfigError as exc:
                self._refuse(job, str(exc))
                continue
            log.info("job %s: start on %s (%s)", job.pk, job.actual_device_id or "its host's device", hostname)
            self.send(hostname, encode("start", **fields))

    def _refuse(self, job: TestJob, reason: str) -> None:
        log.error("job %s: %s", job.pk, reason)
        with transaction.atomic():
            job = TestJob.objects.select_for_update().get(pk=job.pk)
            if job.state != JobState.FINISHED:
                job.go_state_finished(JobHealth.INCOMPLETE, "Configuration", reason)

    def connected_workers(self) -> list[str]:
        horizon = time.monotonic() - 3 * DEFAULT_HEARTBEAT
        self.connected = {h: t for h, t in self.connected.items() if t >= horizon}
        return list(self.connected)

    # the loop

    def run(self, should_stop=lambda: False) -> None:
        last_sweep = 0.0
        while not should_stop():
            try:
                ready = dict(self.poller.poll(500))
                if self.events in ready:
                    while self.events.poll(0):
                        self.events.recv(zmq.NOBLOCK)
                    self.send_pending(self.connected_workers())
                if self.router in ready:
                    for _ in range(1000):  # bounded: hints and sweeps must not starve
                        self.receive()
                        if not self.router.poll(0):
                            break
                if time.monotonic() - last_sweep >= 1.0:
                    last_sweep = time.monotonic()
                    self.send_pending(self.connected_workers())
                    if self.worker_keys is not None:
                        self.worker_keys.refresh()
                    self.sent = {k: t for k, t in self.sent.items() if last_sweep - t < 60}
            except DatabaseError as exc:
                log.error("database error: %s; retrying in 2 s", exc)
                connection.close()
                time.sleep(2)
                close_old_connections()
