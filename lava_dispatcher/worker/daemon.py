"""The worker's loop: master messages in, job events out.

One thread. zmq.Poller waits on the master socket and on a self-pipe that
signals (SIGCHLD, SIGTERM) write to, so a lava-run that exits wakes the loop
at once; while jobs run, the poll timeout is short enough to pick up new log
lines within a few tens of milliseconds.
"""

from __future__ import annotations

import fcntl
import logging
import signal
import socket
import time
from pathlib import Path
from typing import IO, Any

import zmq

from lava_common import file_modes
from lava_dispatcher.worker.jobs import JobStore, WorkerJob
from lava_dispatcher.worker.link import MasterLink, Refused
from lava_dispatcher.worker.spawn import SpawnError

LOG = logging.getLogger("lava-worker")

LOG_POLL_SECONDS = 0.05  # how often logs.yaml is looked at while a job logs (exits wake the loop at once)
# a quiet log is looked at less and less often, up to this: 50 workers on one host, each waking 20 times
# a second for jobs that wait on their boards, used more CPU than the jobs (doc/scaling.md)
QUIET_LOG_POLL_SECONDS = 0.5
IDLE_POLL_SECONDS = 1.0


class WorkerExit(Exception):
    """Stop the worker with this message (and a non-zero exit code)."""


def lock_worker_dir(worker_dir: Path) -> IO[bytes]:
    """Hold an exclusive lock on the worker directory: two workers on one directory would run jobs twice."""
    file_modes.make_dirs(worker_dir)
    handle = file_modes.open_append(worker_dir / "lock")  # held for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise WorkerExit(f"another lava-worker is using {worker_dir}") from None
    return handle


class Worker:
    def __init__(self, link: MasterLink, store: JobStore, exit_on_refused: bool = False):
        self.link = link
        self.store = store
        self.exit_on_refused = exit_on_refused
        self.stopping = False
        self._hello_seen = 0
        self._log_poll = LOG_POLL_SECONDS
        self._wake_read, self._wake_write = socket.socketpair()
        for end in (self._wake_read, self._wake_write):
            end.setblocking(False)

    # signals
    def install_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_write.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # a handler, so the wakeup fd is written
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    # the loop
    def run(self) -> None:
        self.store.load()
        try:
            while not self.stopping:
                try:
                    self.step()
                except OSError as exc:
                    # a full disk or a vanished directory: what was not done is re-sent by the protocol
                    LOG.error("%s; retrying in 1 s", exc)
                    time.sleep(1)
        finally:
            self.link.shutdown()
        running = sum(not job.finished for job in self.store.jobs.values())
        if running:
            LOG.info("stopping; %d job(s) keep running and will be adopted by the next lava-worker", running)

    def step(self) -> None:
        now = time.monotonic()
        self.link.tick(now, self.store.summary())
        poller = zmq.Poller()
        if self.link.socket is not None:
            poller.register(self.link.socket, zmq.POLLIN)
        poller.register(self._wake_read.fileno(), zmq.POLLIN)
        poller.poll(self._timeout(now) * 1000)
        self._drain_wakeups()
        now = time.monotonic()
        try:
            messages = self.link.receive(now)
        except Refused as exc:
            if self.exit_on_refused:
                raise WorkerExit(f"the master refused this worker: {exc}") from None
            LOG.error("the master refused this worker: %s (retrying later)", exc)
            return
        if self.link.hello_count != self._hello_seen:
            self._hello_seen = self.link.hello_count
            self._after_hello()
        for message in messages:
            self.handle(message)
        self.store.poll()
        if self.link.ready:
            self.pump(now)

    def _timeout(self, now: float) -> float:
        jobs = self.store.jobs.values()
        if any(job.tail.in_flight is None and job.tail.available() for job in jobs):
            self._log_poll = LOG_POLL_SECONDS  # lines to send: their batch is due within LOG_BATCH_SECONDS
            return LOG_POLL_SECONDS
        timeout = min(IDLE_POLL_SECONDS, self.link.wait_time(now))
        if any(not job.finished for job in jobs):
            timeout = min(timeout, self._log_poll)
            self._log_poll = min(2 * self._log_poll, QUIET_LOG_POLL_SECONDS)
        # pump() sends nothing while the link is not ready: waiting on a job's due time then would spin the
        # loop every millisecond (50 such workers starved the master into a reconnect storm)
        for job in jobs if self.link.ready else ():
            if job.tail.in_flight is not None:
                # the master's logs-ok wakes the loop; without one, pump() sends the batch again a heartbeat
                # later (waiting on end_due instead spun the loop every millisecond until logs-ok came)
                due = job.batch_sent_at + self.link.heartbeat
            elif job.finished and job.sweeper is None:  # a sweep's end wakes the loop (SIGCHLD)
                due = job.end_due
            else:
                continue
            timeout = min(timeout, max(0.0, due - now))
        return max(timeout, 0.001)

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_read.recv(512):
                pass
        except BlockingIOError:
            pass

    def _after_hello(self) -> None:
        # a (new) master: what it had in flight may be lost, so logs go again from the acknowledged line
        for job in self.store.jobs.values():
            job.tail.resend()
            job.end_due = 0.0

    # master -> worker
    def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        job_id = message.get("job_id")
        if kind == "start":
            self._start(message)
        elif kind == "cancel":
            self.store.cancel(message["job_id"])
        elif kind == "logs-ok":
            job = self.store.jobs.get(message["job_id"])
            count = message.get("count")
            if message.get("error"):
                LOG.error("job %s: the server did not store the log: %s", job_id, message["error"])
            if not isinstance(count, int) or count < 0:
                LOG.error("job %s: logs-ok with a bad count %r", job_id, count)
            elif job is not None and job.tail.acknowledge(count):
                job.save()
                job.end_due = 0.0  # progress: once all lines are in, the end goes at once
        elif kind == "end-ok":
            self.store.remove(message["job_id"])
        else:
            LOG.warning("ignoring a %r message: the master does not send those to workers", kind)

    def _start(self, message: dict[str, Any]) -> None:
        job_id = message["job_id"]
        job = self.store.jobs.get(job_id)
        if job is not None:
            if job.finished:
                job.end_due = 0.0  # already over: the end report answers the start
            else:
                self.link.send("start-ok", job_id=job_id)
            return
        try:
            self.store.start(message)
        except SpawnError as exc:
            LOG.error("job %d: cannot start: %s", job_id, exc)
            self.link.send("start-failed", job_id=job_id, error=str(exc))
            return
        self.link.send("start-ok", job_id=job_id)

    # worker -> master
    def pump(self, now: float) -> None:
        """Send what is due: log batches, and the end of finished jobs whose log is all acknowledged."""
        for job in list(self.store.jobs.values()):
            in_flight = job.tail.in_flight
            if in_flight is not None and now - job.batch_sent_at > self.link.heartbeat:
                job.tail.resend()  # no logs-ok for a heartbeat: the master may have restarted
            batch = job.tail.next_batch(now, flush=job.finished)
            if batch is not None:
                if self.link.send("logs", job_id=job.job_id, start=batch.start, lines=batch.lines):
                    job.batch_sent_at = now
                else:
                    job.tail.resend()
            elif job.finished and job.sweeper is None and now >= job.end_due and job.tail.all_acknowledged():
                self._send_end(job, now)

    def _send_end(self, job: WorkerJob, now: float) -> None:
        report = job.end_report()
        if not self.link.send("end", job_id=job.job_id, **report):
            job.end_due = now + 0.1  # no connection this instant: soon again, without rereading files 40 times/s
            return
        job.end_due = now + self.link.heartbeat
        level = logging.INFO if not job.end_sent else logging.DEBUG
        LOG.log(level, "job %d: end sent (%s, %d log lines)", job.job_id, report["result"], report["log_lines"])
        job.end_sent = True
