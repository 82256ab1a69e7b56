#!/usr/bin/env python3
"""Web UI pages on a big lab: 1,000,000 jobs, 10,000,000 test cases, a 1,000,000-line log.

Fills PostgreSQL in SQL (generate_series for the finished history, COPY for the
recent jobs), then renders each page through the Django test client (server
side: URL routing, middleware, queries, templates) as a logged-in user who is
not an admin (the visibility rule applies in full) and prints the median and
worst of repeated renders against the targets:
- jobs list (also filtered), a job page, device, device type and worker pages, the device list, the lab
  overview, a job's results (by suite, by case, as CSV): <= 100 ms median;
- the log endpoint: any 1,000-line range of a 1,000,000-line log: < 50 ms.
Runs on a throwaway PostgreSQL unless LAVA_DATABASE_URL is set (that database is flushed). Filling takes
many minutes: with ``--reuse`` and both LAVA_DATABASE_URL and LAVA_STATE_DIR set, a lab an earlier
``--reuse`` run filled is measured again as it is (migrated first), and kept.
"""

import argparse
import io
import json
import os
import random
import secrets
import shutil
import statistics
import time
from datetime import timedelta

from _django import setup_django

JOBS, CASES_PER_JOB, LOG_LINES = 1_000_000, 10, 1_000_000
DEVICE_TYPES, WORKERS, DEVICES, USERS = 20, 10, 500, 50
QUEUED, RUNNING = 800, 150  # the newest jobs; a finished one just below them is measured
FINISHED_JOB = JOBS - QUEUED - RUNNING - 5
RUNS = 30
PAGE_TARGET_MS, LOG_TARGET_MS = 100.0, 50.0


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
    running_devices = rng.sample(devices, RUNNING)
    rows, columns = [], [
        "id", "sub_id", "target_group", "description", "submitter_id", "requested_device_type_id", "actual_device_id",
        "health_check", "priority", "is_public", "definition", "original_definition", "multinode_definition",
        "metadata", "submit_time", "start_time", "end_time", "state", "health", "failure_comment", "error_type",
        "error_msg", "token", "log_lines",
    ]
    queued, running = QUEUED, RUNNING
    recent = queued + running + 1000  # the newest jobs row by row; the history before them in SQL
    for pk in range(JOBS - recent + 1, JOBS + 1):
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
    with connection.cursor() as cursor:
        # a bulk load: foreign keys are known good, their per-row checks would take minutes
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            f"INSERT INTO {TestJob._meta.db_table} ({', '.join(columns)}) "
            "SELECT g, '', '', 'bench job ' || g, (%(users)s::bigint[])[1 + g %% %(n_users)s], "
            "(%(types)s::text[])[1 + (g * 7) %% %(n_devices)s], (%(hosts)s::text[])[1 + (g * 7) %% %(n_devices)s], "
            "g %% 50 = 0, (ARRAY[0, 50, 100])[1 + g %% 3], g %% 10 <> 0, %(definition)s, %(definition)s, '', "
            "jsonb_build_object('build', (g / 10)::text), "
            "%(now)s - make_interval(secs => (%(jobs)s - g) * 300), "
            "%(now)s - make_interval(secs => (%(jobs)s - g) * 300 - 1 - g %% 600), "
            "%(now)s - make_interval(secs => (%(jobs)s - g) * 300 - 61 - g %% 600 - g %% 3540), "
            "%(finished)s, (%(healths)s::int[])[1 + g %% 10], '', "
            "CASE WHEN g %% 10 = 8 THEN 'InfrastructureError' ELSE '' END, '', md5(g::text), 0 "
            "FROM generate_series(1, %(history)s) AS g",
            {"users": [u.pk for u in users], "n_users": USERS, "n_devices": DEVICES, "definition": definition,
             "types": [d.device_type_id for d in devices], "hosts": [d.hostname for d in devices],
             "now": now, "jobs": JOBS, "history": JOBS - recent, "finished": JobState.FINISHED,
             "healths": [JobHealth.COMPLETE] * 8 + [JobHealth.INCOMPLETE, JobHealth.CANCELED]},
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    copy_rows(TestJob._meta.db_table, columns, rows)
    Device.objects.filter(hostname__in=[d.hostname for d in running_devices]).update(state=DeviceState.RUNNING)
    through = TestJob.viewing_groups.through
    copy_rows(through._meta.db_table, ["testjob_id", "group_id"], ([pk, group.pk] for pk in range(100, JOBS, 100)))
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            f"INSERT INTO {TestSuite._meta.db_table} (id, job_id, name) "
            "SELECT 2 * g - 1 + n, g, (ARRAY['lava', '0_smoke'])[1 + n] "
            "FROM generate_series(1, %s) AS g, generate_series(0, 1) AS n", [JOBS])
        cursor.execute(
            f"INSERT INTO {TestCase._meta.db_table} "
            "(id, suite_id, name, result, units, metadata, logged, start_log_line, end_log_line) "
            "SELECT g * %(per_job)s + n, 2 * g - CASE WHEN n < 3 THEN 1 ELSE 0 END, 'case-' || n, "
            "CASE WHEN n %% 7 = 0 THEN 1 ELSE 0 END, '', '{}', %(now)s, n, n "
            "FROM generate_series(1, %(jobs)s) AS g, generate_series(0, %(last)s) AS n",
            {"per_job": CASES_PER_JOB, "now": now, "jobs": JOBS, "last": CASES_PER_JOB - 1})
        cursor.execute("SET session_replication_role = DEFAULT")
    with connection.cursor() as cursor:
        for model in (TestJob, TestSuite, TestCase):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        cursor.execute("ANALYZE")
    return {"user": users[1], "finished_job": FINISHED_JOB}


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


def log_line_count(job_id: int) -> int:
    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.logs.store import LogStore, job_output_dir

    return LogStore(job_output_dir(TestJob.objects.get(pk=job_id))).line_count()


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


def filled_lab() -> dict | None:
    """The fixture of a lab filled by an earlier run, or None."""
    from django.contrib.auth.models import User

    from lava_scheduler.jobs.models import TestJob

    if TestJob.objects.order_by("-pk").values_list("pk", flat=True).first() != JOBS:
        return None
    return {"user": User.objects.get(username="user01"), "finished_job": FINISHED_JOB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true",
                        help="measure the lab LAVA_DATABASE_URL and LAVA_STATE_DIR hold (fill them if empty); keep it")
    args = parser.parse_args()
    if args.reuse and not {"LAVA_DATABASE_URL", "LAVA_STATE_DIR"} <= os.environ.keys():
        raise SystemExit("--reuse needs LAVA_DATABASE_URL and LAVA_STATE_DIR")
    setup_django(keep_data=args.reuse)
    rng = random.Random(7)
    started = time.perf_counter()
    fixture = filled_lab() if args.reuse else None
    if fixture is None:
        if args.reuse:
            from django.core.management import call_command

            call_command("flush", "--no-input", verbosity=0)
        fixture = populate(rng)
        print(f"lab: {JOBS:,} jobs, {JOBS * CASES_PER_JOB:,} test cases, {DEVICES} devices, {WORKERS} workers, "
              f"{USERS} users (filled in {time.perf_counter() - started:.1f} s)")
    else:
        print(f"lab: {JOBS:,} jobs reused as an earlier run left them")
    log_job = fixture["finished_job"] - 1
    started = time.perf_counter()
    if not args.reuse or log_line_count(log_job) != LOG_LINES:
        remove_log(log_job)  # of a run that stopped half-way
        write_big_log(log_job)
        print(f"log of job {log_job}: {LOG_LINES:,} lines (written in {time.perf_counter() - started:.1f} s)")
    try:
        measure(fixture, log_job, rng)
    finally:
        if not args.reuse:
            remove_log(log_job)


def remove_log(log_job: int) -> None:
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
        ("jobs list, ?page=10000 (shows page 40, the last numbered)", "/scheduler/jobs?page=10000", client),
        ("jobs list, 250,000 jobs down (?before=)", f"/scheduler/jobs?before={JOBS - 250_001}", client),
        ("jobs list, text search, one match", "/scheduler/jobs?q=job 424242", client),
        ("jobs list, text search, ~11,000 matches", "/scheduler/jobs?q=job 42", client),
        ("jobs list, text search, no match", "/scheduler/jobs?q=no such job", client),
        ("jobs list, filtered (incomplete on type-03)", "/scheduler/jobs?health=incomplete&device_type=type-03", client),
        ("jobs list, health checks only", "/scheduler/jobs?kind=health", client),
        ("jobs list, running", "/scheduler/jobs?state=running", client),
        ("jobs list, one submitter", "/scheduler/jobs?submitter=user05", client),
        ("jobs list, one device", "/scheduler/jobs?device=board-007", client),
        ("jobs list, anonymous", "/scheduler/jobs", anonymous),
        (f"job page  /scheduler/job/{job}", f"/scheduler/job/{job}", client),
        ("device list  /scheduler/devices", "/scheduler/devices", client),
        ("device page  /scheduler/device/board-007", "/scheduler/device/board-007", client),
        ("device type page  /scheduler/device_type/type-03", "/scheduler/device_type/type-03", client),
        ("device type list  /scheduler/device_types", "/scheduler/device_types", client),
        ("worker list  /scheduler/workers", "/scheduler/workers", client),
        ("worker page  /scheduler/worker/worker-03", "/scheduler/worker/worker-03", client),
        (f"results  /results/{job}", f"/results/{job}", client),
        (f"suite results  /results/{job}/0_smoke", f"/results/{job}/0_smoke", client),
        ("one test case  .../0_smoke/case-4", f"/results/{job}/0_smoke/case-4", client),
        ("results as CSV", f"/results/{job}/csv", client),
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
