#!/usr/bin/env python3
"""One scheduling pass: 1,000 devices of 100 types, 10,000 queued jobs with tags and priorities.

A pass with group permissions on half the device types (submit rights for one
of five groups each; ten submitters, each in some of the groups) is measured too.

Prints the time of the pass and its SQL queries: on a new lab (every device
configuration rendered for the first time), warm (a second lab of the same size
in the same process), and the first pass of a freshly started scheduler process
on a lab it has scheduled before (what a scheduler restart costs). Runs on a
throwaway PostgreSQL unless LAVA_DATABASE_URL is set.
"""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from _django import setup_django

DEVICES, TYPES, JOBS = 1000, 100, 10_000


def populate(prefix: str, permissions: bool = False) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User

    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.lab.models import Device, DeviceType, Tag, Worker
    from lava_scheduler.lab.states import DeviceHealth

    rng = random.Random(42)
    users = [User.objects.get_or_create(username=f"bench{i}")[0] for i in range(10)]
    tags = [Tag.objects.get_or_create(name=f"tag{i}")[0] for i in range(5)]
    types = DeviceType.objects.bulk_create([DeviceType(name=f"{prefix}type{i:03d}") for i in range(TYPES)])
    workers = Worker.objects.bulk_create([Worker(hostname=f"{prefix}worker{i:02d}") for i in range(20)])
    for worker in workers:
        worker.go_state_online("bench")
    Worker.objects.bulk_update(workers, ["state", "last_ping"])
    devices = []
    settings.DEVICES_PATH.mkdir(parents=True, exist_ok=True)
    for index in range(DEVICES):
        device = Device(hostname=f"{prefix}dev{index:04d}", device_type=types[index % TYPES], worker_host=workers[index % 20])
        device.go_health(DeviceHealth.GOOD, "bench")
        devices.append(device)
        dictionary = settings.DEVICES_PATH / f"{device.hostname}.jinja2"
        if not dictionary.exists():  # rewriting would defeat the render cache of the warm pass
            dictionary.write_text("{% extends 'qemu.jinja2' %}\n")
    Device.objects.bulk_create(devices)
    Device.tags.through.objects.bulk_create(
        [Device.tags.through(device_id=d.hostname, tag_id=t.id) for d in devices for t in tags if rng.random() < 0.5]
    )
    jobs = TestJob.objects.bulk_create(
        [
            TestJob(
                submitter=users[rng.randrange(len(users))],
                requested_device_type=types[rng.randrange(TYPES)],
                priority=rng.choice([0, 50, 100]),
                definition="job_name: bench",
                description="bench",
            )
            for _ in range(JOBS)
        ]
    )
    TestJob.tags.through.objects.bulk_create(
        [TestJob.tags.through(testjob_id=j.pk, tag_id=rng.choice(tags).id) for j in jobs if rng.random() < 0.3]
    )
    if permissions:
        restrict_half(rng, types, users)


def restrict_half(rng, types, users) -> None:
    from django.contrib.auth.models import Group

    from lava_scheduler.permissions.models import GroupDeviceTypePermission

    groups = [Group.objects.get_or_create(name=f"bench-team{i}")[0] for i in range(5)]
    for user in users:
        user.groups.set(rng.sample(groups, 2))
    GroupDeviceTypePermission.objects.bulk_create([
        GroupDeviceTypePermission(device_type=device_type, group=rng.choice(groups), permission=permission)
        for device_type in types[::2] for permission in ("view_devicetype", "submit_to_devicetype")
    ])


def backend_cpu_seconds() -> float | None:
    """CPU used so far by our PostgreSQL backend, when it runs on this host (its /proc entry is readable)
    and the connection is open (a new scheduler's first pass opens its own: that is part of its cost)."""
    from django.db import connection

    if connection.connection is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:  # nanoseconds on a CPU (/proc/PID/stat counts in clock ticks, 10 ms: a tenth of a pass)
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def measure(label: str, target: str = "") -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from lava_scheduler.scheduler.core import schedule

    reset_queries()
    database_before = backend_cpu_seconds()
    with CaptureQueriesContext(connection) as queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = schedule()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    database = "" if database_before is None else f" + PostgreSQL {backend_cpu_seconds() - database_before:.3f} s"
    # the wall time counts whatever else the host runs; the CPU times are this pass's own cost
    print(f"{label}: {elapsed:.3f} s, {len(summary.scheduled)} jobs scheduled, {len(queries)} SQL queries"
          + (f"  (target {target})" if target else "") + f"\n    CPU: scheduler {cpu:.3f} s{database}")


def relab(permissions: bool = False) -> None:
    from django.db import connection

    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.lab.models import Device, DeviceType, Tag, Worker

    for model in (TestJob, Device, DeviceType, Worker, Tag):
        model.objects.all().delete()
    populate("a-", permissions)  # same dictionaries: their rendering is cached by file modification time
    # what autovacuum does for a running lab: without it each new lab measures the dead rows of the last
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def first_pass_of_a_new_process() -> None:
    """Run by main() in a child: a scheduler process that has just started."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
    import django

    django.setup()
    measure("scheduling pass, first of a newly started scheduler", "<= 0.5 s")


def main() -> None:
    if sys.argv[1:] == ["--first-pass"]:
        first_pass_of_a_new_process()
        return
    setup_django()
    print(f"lab: {DEVICES} devices of {TYPES} types, {JOBS} queued jobs (PostgreSQL)")
    populate("a-")
    measure("scheduling pass, new lab (renders every chosen device's configuration once)")
    relab()
    measure("scheduling pass, warm", "<= 0.1 s")
    relab(permissions=True)
    measure("scheduling pass, warm, group permissions on half the device types", "<= 0.1 s")
    relab()
    from django.db import connection

    connection.close()  # the child's transactions must not wait for ours
    subprocess.run([sys.executable, __file__, "--first-pass"], check=True, env=dict(os.environ))


if __name__ == "__main__":
    main()
