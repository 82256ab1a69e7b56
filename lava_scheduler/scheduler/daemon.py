"""The scheduler daemon: a pass whenever something happened, and at least every INTERVAL seconds."""

import logging
import time
from datetime import timedelta

import zmq
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from lava_common.protocol import DEFAULT_HEARTBEAT, OFFLINE_AFTER_HEARTBEATS
from lava_scheduler.lab.models import Worker
from lava_scheduler.lab.states import WorkerState
from lava_scheduler.scheduler.core import schedule

log = logging.getLogger("lava-scheduler")

INTERVAL = 20.0  # the safety net: hints make the scheduler react at once


def mark_silent_workers_offline() -> list[str]:
    horizon = timezone.now() - timedelta(seconds=DEFAULT_HEARTBEAT * OFFLINE_AFTER_HEARTBEATS)
    silent = []
    with transaction.atomic():
        for worker in Worker.objects.select_for_update().filter(state=WorkerState.ONLINE, last_ping__lt=horizon):
            worker.go_state_offline()
            worker.save()
            silent.append(worker.hostname)
    for hostname in silent:
        log.warning("worker %s is silent: Offline", hostname)
    return silent


def run(events_address: str | None, should_stop=lambda: False, interval: float = INTERVAL) -> None:
    events = None
    if events_address:
        events = zmq.Context.instance().socket(zmq.PULL)
        events.setsockopt(zmq.LINGER, 0)
        events.bind(events_address)
    next_pass = 0.0
    while not should_stop():
        now = time.monotonic()
        if now >= next_pass:
            try:
                mark_silent_workers_offline()
                summary = schedule()
            except DatabaseError as exc:
                log.error("database error: %s; retrying in 2 s", exc)
                connection.close()
                time.sleep(2)
                close_old_connections()
                continue
            for job_id in summary.health_checks:
                log.info("health check %s scheduled", job_id)
            if summary.scheduled:
                log.info("scheduled %d job(s): %s", len(summary.scheduled), summary.scheduled[:20])
            for hostname in summary.bad_devices:
                log.error("device %s is Bad (see its history)", hostname)
            for job_id in summary.timed_out:
                log.info("job %s canceled: queue timeout", job_id)
            next_pass = time.monotonic() + interval
        timeout_ms = max(0, int((next_pass - time.monotonic()) * 1000))
        if events is not None:
            if events.poll(min(timeout_ms, 1000)):
                while events.poll(0):
                    events.recv(zmq.NOBLOCK)
                next_pass = 0.0
        else:
            time.sleep(min(timeout_ms / 1000, 1.0))
    if events is not None:
        events.close(0)
