#!/usr/bin/env python3
"""Print what happens in the lab: job state changes and device health changes, one line each.

Run by ``run.py`` beside the daemons so the terminal shows the lab at work.
Reads the database twice a second (two small queries); never writes.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECENT_JOBS = 50


def say(message: str) -> None:
    print(f"[lab] {time.strftime('%H:%M:%S')} {message}", flush=True)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.db import OperationalError, close_old_connections

    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.jobs.states import JobState
    from lava_scheduler.lab.models import Device

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    jobs: dict[int, tuple] = {}
    devices: dict[str, tuple] = {}
    first = True
    while True:
        try:
            close_old_connections()
            for job in TestJob.objects.order_by("-pk")[:RECENT_JOBS]:
                seen = (job.state, job.health, job.actual_device_id)
                if jobs.get(job.pk) != seen and not (first and job.state == JobState.FINISHED):
                    where = f" on {job.actual_device_id}" if job.actual_device_id else ""
                    outcome = f" {job.get_health_display()}" if job.state == JobState.FINISHED else ""
                    kind = "health check" if job.health_check else "job"
                    say(f"{kind} {job.pk} '{job.description}'{where}: {job.get_state_display()}{outcome}")
                jobs[job.pk] = seen
            for device in Device.objects.all():
                seen = (device.health,)
                if devices.get(device.hostname) != seen:
                    say(f"device {device.hostname} ({device.device_type_id}): {device.get_health_display()}")
                devices[device.hostname] = seen
        except OperationalError as exc:  # SQLite busy for a moment; try again next round
            say(f"(database busy: {exc})")
        first = False
        time.sleep(0.5)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
