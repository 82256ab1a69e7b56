#!/usr/bin/env python3
"""Many workers against one server: jobs per minute, server CPU, log lines stored, the first bottleneck.

Starts lava-master and lava-scheduler on a throwaway PostgreSQL (or
``$LAVA_DATABASE_URL``) and ``--workers`` lava-worker processes on loopback,
each with ``--boards`` simulated boards (a local shell that prints
``--lines`` lines, then a prompt: lava-run's minimal boot). Queues ``--jobs``
short jobs spread over the boards, waits until they end or ``--minutes``
pass, and prints:
- jobs finished per minute, and the median wait from submission to Running;
- CPU seconds of the master, the scheduler, the workers, the jobs (lava-run,
  counted when their worker reaps them), PostgreSQL, and the rest of the host;
- log lines stored per second;
- which part used the most CPU per job: the first bottleneck of this lab.
Everything runs on this host, so the jobs compete with the server for its CPUs;
the per-job server CPU is what tells how far one server host goes.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _django import REPO, setup_django

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of a process, or (``children``) of the children it has waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in (fields[13:15] if children else fields[11:13])) / TICKS


def cpu_now(master: int, scheduler: int, workers: list[int], postgres: list[int]) -> dict[str, float]:
    return {
        "master": cpu_seconds(master),
        "scheduler": cpu_seconds(scheduler),
        "workers": sum(cpu_seconds(p) for p in workers),
        # a worker waits for its lava-run processes: their CPU is counted in the worker's children
        "jobs": sum(cpu_seconds(p, children=True) for p in workers),
        "postgres": sum(cpu_seconds(p) + cpu_seconds(p, children=True) for p in postgres),
        "machine": machine_cpu_seconds(),
    }


def machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for v in fields) - int(fields[3]) - int(fields[4])  # all but idle and iowait
    return busy / TICKS


def postgres_pids(data_dir_marker: str) -> list[int]:
    """The PostgreSQL server of our database and its backends (found by its data folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith(("postgres", "/usr/lib/postgresql")) and data_dir_marker in cmdline:
            pids.append(int(entry.name))
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent in pids:
                children.append(int(entry.name))
    return pids + children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--boards", type=int, default=20, help="simulated boards per worker")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200, help="console lines each job's board prints")
    parser.add_argument("--minutes", type=float, default=15.0, help="stop waiting after this long")
    parser.add_argument("--job-limit", type=int, default=2,
                        help="jobs at once per worker (0: one per board). On one host every job is a Python "
                             "process on the same CPUs: 1,000 at once would only measure swapping")
    args = parser.parse_args()
    setup_django()
    sys.path.insert(0, str(REPO))
    import yaml
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db.models import Sum

    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.jobs.states import JobHealth, JobState
    from lava_scheduler.jobs.submission import submit_job
    from lava_scheduler.lab.models import Device, DeviceType, Worker
    from lava_scheduler.lab.states import DeviceHealth, WorkerState
    from tests.server.live_lab import LiveLab, wait_for

    lab = LiveLab(Path(tempfile.mkdtemp(prefix="lava-bench-scale-")))
    pg_marker = str(Path(os.environ["LAVA_STATE_DIR"]).parent / "pg")  # _django's throwaway cluster
    lab.configure_test_process(settings)
    user = User.objects.create(username="bench")
    DeviceType.objects.create(name="fake")
    board = (f"sh -c \"seq 1 {args.lines} | sed s/^/console-line-/; PS1='fake-board# ' exec sh -i\"")
    dictionary = "{% extends 'fake.jinja2' %}\n" + f"{{% set connection_command = {board!r} %}}\n"
    workers = [f"sim-worker-{w:02d}" for w in range(args.workers)]
    for worker in workers:
        Worker.objects.create(hostname=worker, job_limit=args.job_limit)
        lab.add_dispatcher_config(worker)
        for b in range(args.boards):
            device = Device.objects.create(hostname=f"{worker}-board-{b:02d}", device_type_id="fake",
                                           worker_host_id=worker)
            device.go_health(DeviceHealth.GOOD, "bench")
            device.save()
            lab.write_dictionary(device.hostname, dictionary)
    definition = yaml.safe_dump({
        "job_name": "scale", "device_type": "fake", "visibility": "public",
        "timeouts": {"job": {"seconds": 120}, "action": {"seconds": 120}},
        "actions": [{"boot": {"method": "minimal", "reset": False, "prompts": ["fake-board# "]}}],
    })
    boards = args.workers * args.boards
    print(f"lab: {args.workers} workers x {args.boards} boards = {boards} boards, {args.jobs} jobs of "
          f"{args.lines} console lines, at most {args.job_limit or args.boards} jobs at once per worker, "
          f"one server, loopback (load before: {os.getloadavg()[0]:.1f})")
    try:
        lab.start_master()
        lab.start_scheduler()
        for worker in workers:
            lab.start_worker(worker)
        wait_for(lambda: Worker.objects.filter(state=WorkerState.ONLINE).count() == len(workers), 180,
                 "every worker online", lab, interval=0.5)
        pg = postgres_pids(pg_marker)
        master, scheduler = lab.processes["master"].pid, lab.processes["scheduler"].pid
        worker_pids = [lab.processes[f"worker-{w}"].pid for w in workers]
        before = cpu_now(master, scheduler, worker_pids, pg)
        started = time.monotonic()
        for _ in range(args.jobs):
            submit_job(definition, user)
        submitted = time.monotonic() - started
        deadline = started + args.minutes * 60
        while time.monotonic() < deadline:
            if not TestJob.objects.exclude(state=JobState.FINISHED).exists():
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
        after = cpu_now(master, scheduler, worker_pids, pg)
        done = TestJob.objects.filter(state=JobState.FINISHED)
        finished = done.count()
        complete = done.filter(health=JobHealth.COMPLETE).count()
        lines = done.aggregate(total=Sum("log_lines"))["total"] or 0
        waits = [(j.start_time - j.submit_time).total_seconds() for j in done.exclude(start_time=None)]
        used = {name: after[name] - before[name] for name in before}
        rest = used["machine"] - sum(used[n] for n in ("master", "scheduler", "workers", "jobs", "postgres"))
        print(f"submitted {args.jobs} jobs in {submitted:.1f} s; {finished} finished ({complete} Complete) "
              f"in {elapsed:.0f} s: {finished / elapsed * 60:,.0f} jobs/min")
        if waits:
            print(f"wait from submission to Running: median {statistics.median(waits):.1f} s, worst {max(waits):.1f} s")
        print(f"log lines stored: {lines:,} = {lines / elapsed:,.0f} lines/s")
        def per_job(seconds: float) -> str:
            return f"{seconds / finished * 1000:7.1f} ms/job" if finished else "no job finished"

        print("CPU seconds (and per finished job):")
        for name in ("master", "scheduler", "workers", "jobs", "postgres"):
            print(f"  {name:<10} {used[name]:8.1f} s  ({per_job(used[name])}, "
                  f"{used[name] / elapsed * 100:5.1f} % of one core)")
        print(f"  {'the rest':<10} {rest:8.1f} s  ({per_job(rest)}): "
              "lava-run processes not yet reaped, the shells of the boards, other work on this host")
        print(f"  machine    {used['machine']:8.1f} s of {elapsed * os.cpu_count():.0f} s available "
              f"({os.cpu_count()} CPUs; load after: {os.getloadavg()[0]:.1f})")
        server = used["master"] + used["scheduler"] + used["postgres"]
        if server and finished:
            print(f"server (master + scheduler + PostgreSQL): {per_job(server)} of CPU: one "
                  f"server core would carry ~{finished / server * 60:,.0f} jobs/min of this kind")
        biggest = max(("master", "scheduler", "workers", "jobs", "postgres"), key=lambda n: used[n])
        print(f"first bottleneck on this host: {biggest} (largest CPU share; 'jobs' = the lava-run processes)")
    finally:
        lab.stop_all()


if __name__ == "__main__":
    main()
