#!/usr/bin/env python3
"""Web UI pages on a big lab: 100,000 jobs, 1,000,000 test cases, a 1,000,000-line log.

Fills PostgreSQL with COPY, then renders each page through the Django test
client (server side: URL routing, middleware, queries, templates) as a
logged-in user who is not an admin (the visibility rule applies in full)
and prints the median and worst of repeated renders against the targets:
- jobs list, a job page, the device list, the lab overview: < 200 ms median;
- the log endpoint: any 1,000-line range of a 1,000,000-line log: < 50 ms.
Runs on a throwaway PostgreSQL unless LAVA_DATABASE_URL is set (that database is flushed).
"""

import io
import json
import random
import secrets
import shutil
import statistics
import time
from datetime import timedelta

from _django import setup_django

JOBS, CASES_PER_JOB, LOG_LINES = 100_000, 10, 1_000_000
DEVICE_TYPES, WORKERS, DEVICES, USERS = 20, 10, 500, 50
RUNS = 30
PAGE_TARGET_MS, LOG_TARGET_MS = 200.0, 50.0


def _text(value) -> str:
    """One field in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_text(value) for value in row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def populate(rng: random.Random) -> dict:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from lava_common.yaml_loader import dump_yaml
    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.jobs.states import JobHealth, JobState
    from lava_scheduler.lab.models import Device, DeviceType, Worker
    from lava_scheduler.lab.states import DeviceHealth, DeviceState, WorkerState
    from lava_scheduler.results.models import TestCase, TestSuite

    users = User.objects.bulk_create([User(username=f"user{i:02d}") for i in range(USERS)])
    group = Group.objects.create(name="team")
    group.user_set.add(users[0])
    types = DeviceType.objects.bulk_create([DeviceType(name=f"type-{i:02d}") for i in range(DEVICE_TYPES)])
    workers = Worker.objects.bulk_create(
        [Worker(hostname=f"worker-{i:02d}", state=WorkerState.ONLINE, last_ping=timezone.now()) for i in range(WORKERS)]
    )
    healths = [DeviceHealth.GOOD] * 8 + [DeviceHealth.UNKNOWN, DeviceHealth.BAD, DeviceHealth.MAINTENANCE]
    devices = Device.objects.bulk_create(
        [
            Device(hostname=f"board-{i:03d}", device_type=types[i % DEVICE_TYPES], worker_host=workers[i % WORKERS],
                   health=rng.choice(healths))
            for i in range(DEVICES)
        ]
    )
    definition = dump_yaml({"job_name": "bench", "device_type": "type-00", "visibility": "public",
                            "timeouts": {"job": {"minutes": 10}},
                            "actions": [{"boot": {"method": "minimal"}}]})
    now = timezone.now()
    running_devices = rng.sample(devices, 150)
    rows, columns = [], [
        "id", "sub_id", "target_group", "description", "submitter_id", "requested_device_type_id", "actual_device_id",
        "health_check", "priority", "is_public", "definition", "original_definition", "multinode_definition",
        "metadata", "submit_time", "start_time", "end_time", "state", "health", "failure_comment", "error_type",
        "error_msg", "token", "log_lines",
    ]
    queued, running = 800, len(running_devices)
    for pk in range(1, JOBS + 1):
        submitted = now - timedelta(seconds=(JOBS - pk) * 300)  # newest last: one job every 5 minutes
        device = rng.choice(devices)
        state, health = JobState.FINISHED, rng.choice([JobHealth.COMPLETE] * 8 + [JobHealth.INCOMPLETE, JobHealth.CANCELED])
        started, ended = submitted + timedelta(seconds=rng.randint(1, 600)), None
        if pk > JOBS - queued:
            state, health, device, started = JobState.SUBMITTED, JobHealth.UNKNOWN, None, None
        elif pk > JOBS - queued - running:
            state, health = JobState.RUNNING, JobHealth.UNKNOWN
            device = running_devices[pk - (JOBS - queued - running) - 1]
        else:
            ended = started + timedelta(seconds=rng.randint(60, 3600))
        rows.append([
            pk, "", "", f"bench job {pk}", users[pk % USERS].pk,
            device.device_type_id if device else types[pk % DEVICE_TYPES].name, device.hostname if device else None,
            pk % 50 == 0, rng.choice([0, 50, 100]), pk % 10 != 0, definition, definition, "",
            json.dumps({"build": str(pk // 10)}), submitted, started, ended, state, health, "",
            "InfrastructureError" if health == JobHealth.INCOMPLETE else "", "", secrets.token_hex(16), 0,
        ])
    copy_rows(TestJob._meta.db_table, columns, rows)
    Device.objects.filter(hostname__in=[d.hostname for d in running_devices]).update(state=DeviceState.RUNNING)
    through = TestJob.viewing_groups.through
    copy_rows(through._meta.db_table, ["testjob_id", "group_id"], ([pk, group.pk] for pk in range(100, JOBS, 100)))
    suite_rows = ([2 * pk - 1 + n, pk, name] for pk in range(1, JOBS + 1) for n, name in enumerate(("lava", "0_smoke")))
    copy_rows(TestSuite._meta.db_table, ["id", "job_id", "name"], suite_rows)
    case_rows = (
        [pk * CASES_PER_JOB + n, 2 * pk - (1 if n < 3 else 0), f"case-{n}", 0 if n % 7 else 1, "", "{}", now, n, n]
        for pk in range(1, JOBS + 1)
        for n in range(CASES_PER_JOB)
    )
    copy_rows(TestCase._meta.db_table, ["id", "suite_id", "name", "result", "units", "metadata", "logged", "start_log_line",
                                        "end_log_line"], case_rows)
    with connection.cursor() as cursor:
        for model in (TestJob, TestSuite, TestCase):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        cursor.execute("ANALYZE")
    return {"user": users[1], "finished_job": JOBS - queued - running - 5}


def write_big_log(job_id: int) -> None:
    from lava_common.log import format_record
    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.logs.store import LogStore, job_output_dir

    job = TestJob.objects.get(pk=job_id)
    store = LogStore(job_output_dir(job))
    levels = ["target"] * 6 + ["debug", "info", "input", "results"]
    chunk = 100_000
    for start in range(0, LOG_LINES, chunk):
        store.append([
            format_record(levels[n % 10], f"console line {n}: " + "x" * (n % 80))
            if levels[n % 10] != "results" else format_record("results", {"definition": "0_smoke", "case": f"c{n}",
                                                                          "result": "pass"})
            for n in range(start, start + chunk)
        ])
    TestJob.objects.filter(pk=job_id).update(log_lines=store.line_count())


def timed(client, url: str, runs: int = RUNS) -> list[float]:
    client.get(url)  # warm caches: templates, query plans
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def report(label: str, times: list[float], target: float) -> bool:
    median = statistics.median(times)
    ok = median < target
    print(f"  {label:<48} median {median:7.1f} ms   worst {max(times):7.1f} ms   "
          f"(target < {target:.0f} ms: {'ok' if ok else 'MISSED'})")
    return ok


def main() -> None:
    setup_django()
    rng = random.Random(7)
    started = time.perf_counter()
    fixture = populate(rng)
    print(f"lab: {JOBS:,} jobs, {JOBS * CASES_PER_JOB:,} test cases, {DEVICES} devices, {WORKERS} workers, "
          f"{USERS} users (filled in {time.perf_counter() - started:.1f} s)")
    log_job = fixture["finished_job"] - 1
    started = time.perf_counter()
    write_big_log(log_job)
    print(f"log of job {log_job}: {LOG_LINES:,} lines (written in {time.perf_counter() - started:.1f} s)")
    try:
        measure(fixture, log_job, rng)
    finally:
        from lava_scheduler.jobs.models import TestJob
        from lava_scheduler.logs.store import job_output_dir

        shutil.rmtree(job_output_dir(TestJob.objects.get(pk=log_job)), ignore_errors=True)  # ~130 MB


def measure(fixture: dict, log_job: int, rng: random.Random) -> None:
    from django.test import Client

    client = Client()
    client.force_login(fixture["user"])
    anonymous = Client()
    job = fixture["finished_job"]
    pages = [
        ("lab overview  /", "/", client),
        ("jobs list  /scheduler/jobs", "/scheduler/jobs", client),
        ("jobs list, page 200", "/scheduler/jobs?page=200", client),
        ("jobs list, filtered (incomplete on type-03)", "/scheduler/jobs?health=incomplete&device_type=type-03", client),
        ("jobs list, anonymous", "/scheduler/jobs", anonymous),
        (f"job page  /scheduler/job/{job}", f"/scheduler/job/{job}", client),
        ("device list  /scheduler/devices", "/scheduler/devices", client),
    ]
    print(f"server-side render times over {RUNS} requests each (Django test client, logged-in non-admin user):")
    results = [report(label, timed(c, url), PAGE_TARGET_MS) for label, url, c in pages]

    starts = [rng.randrange(0, LOG_LINES - 1000) for _ in range(RUNS)] + [0, LOG_LINES - 1000]
    times = []
    for start in starts:
        times += timed(client, f"/scheduler/job/{log_job}/log?start={start}&end={start + 1000}", runs=1)
    results.append(report("log endpoint, 1,000-line ranges (random)", times, LOG_TARGET_MS))
    results.append(report("log endpoint, tail (no range given)", timed(client, f"/scheduler/job/{log_job}/log"),
                          LOG_TARGET_MS))
    print("all targets met" if all(results) else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
