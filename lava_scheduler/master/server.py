"""The master's loop: one ROUTER socket for workers, one PULL socket for wake-up hints."""

import logging
import time
from dataclasses import dataclass, field

import zmq
import zmq.auth
from django.db import DatabaseError, close_old_connections, connection, transaction

from lava_common.protocol import DEFAULT_HEARTBEAT, ProtocolError, decode, encode
from lava_scheduler.device_config import DeviceConfigError
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
    secret_key_file: str | None = None  # None: plain text (loopback only)


@dataclass
class Master:
    config: MasterConfig
    connected: dict[str, float] = field(default_factory=dict)  # hostname -> last message time
    sent: dict[tuple[str, int], float] = field(default_factory=dict)  # (kind, job id) -> last sent
    keys: dict[str, str] = field(default_factory=dict)  # hostname -> public key
    worker_keys: WorkerKeys | None = None  # what the CURVE authenticator allows

    def setup(self, context: zmq.Context) -> None:
        self.router = context.socket(zmq.ROUTER)
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

    def _authenticated(self, hostname: str, frame: zmq.Frame) -> bool:
        if not self.config.secret_key_file:
            return Worker.objects.filter(pk=hostname).exists()
        key = frame.get("User-Id")
        if self.keys.get(hostname) != key:
            self.keys[hostname] = Worker.objects.filter(pk=hostname).values_list("public_key", flat=True).first()
        if self.keys.get(hostname) != key:
            log.warning("%s: key %s is not this worker's key: message dropped", hostname, key)
            return False
        return True

    def receive(self) -> None:
        frames = self.router.recv_multipart(copy=False)
        hostname = frames[0].bytes.decode("utf-8", errors="replace")
        if len(frames) != 2 or not self._authenticated(hostname, frames[1]):
            return
        try:
            message = decode(frames[1].bytes)
        except ProtocolError as exc:
            log.warning("%s: bad message: %s", hostname, exc)
            return
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
        try:
            self.router.send_multipart([hostname.encode("utf-8"), payload])
        except zmq.ZMQError as exc:  # EHOSTUNREACH: the worker went away
            log.debug("%s: not reachable (%s)", hostname, exc)
            self.connected.pop(hostname, None)

    # sending what workers are owed

    def send_pending(self, hostnames: list[str], force: bool = False) -> None:
        if not hostnames:
            return
        now = time.monotonic()
        jobs = TestJob.objects.select_related("actual_device").filter(
            state__in=(JobState.SCHEDULED, JobState.CANCELING), actual_device__worker_host__in=hostnames
        )
        for job in jobs:
            kind = "start" if job.state == JobState.SCHEDULED else "cancel"
            delay = START_RESEND if kind == "start" else CANCEL_RESEND
            if not force and now - self.sent.get((kind, job.pk), -delay) < delay:
                continue
            self.sent[(kind, job.pk)] = now
            hostname = job.actual_device.worker_host_id
            if kind == "cancel":
                self.send(hostname, encode("cancel", job_id=job.pk))
                continue
            try:
                fields = start_fields(job)
            except DeviceConfigError as exc:
                self._refuse(job, str(exc))
                continue
            log.info("job %s: start on %s (%s)", job.pk, job.actual_device_id, hostname)
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
