#!/usr/bin/env python3
"""The lab's latencies and log throughput, through real processes.

Starts lava-master, lava-scheduler and lava-worker on a throwaway PostgreSQL
and a board that is a local shell, then prints:
- submit -> Running: median and worst over 20 jobs (from submit_job returning);
- lava-run's final result record -> job Finished on the server: median;
- log lines per second from a chatty board into the server's storage, end to
  end (lava-run, worker, master, output.yaml + index), and whether any line
  was lost or stored twice.
"""

import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from _django import REPO, setup_django

LINES = 200_000


def main() -> None:
    setup_django()
    sys.path.insert(0, str(REPO))
    import yaml
    from django.conf import settings
    from django.contrib.auth.models import User

    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.jobs.states import JobState
    from lava_scheduler.jobs.submission import submit_job
    from lava_scheduler.lab.models import Device, DeviceType, Worker
    from lava_scheduler.lab.states import DeviceHealth
    from lava_scheduler.logs.store import LogStore, job_output_dir
    from tests.server.live_lab import LiveLab, wait_for

    lab = LiveLab(Path(tempfile.mkdtemp(prefix="lava-bench-lab-")))
    lab.configure_test_process(settings)
    user = User.objects.create(username="bench")
    DeviceType.objects.create(name="fake")
    Worker.objects.create(hostname="bench-worker")
    lab.add_dispatcher_config("bench-worker")
    boards = {
        "quiet": "env PS1='fake-board# ' sh -i",
        "chatty": f"sh -c \"seq 1 {LINES} | sed s/^/line-/; PS1='fake-board# ' exec sh -i\"",
    }
    for hostname, command in boards.items():
        device = Device.objects.create(hostname=hostname, device_type_id="fake", worker_host_id="bench-worker")
        device.go_health(DeviceHealth.GOOD, "bench")
        device.save()
        lab.write_dictionary(hostname, "{% extends 'fake.jinja2' %}\n" + f"{{% set connection_command = {command!r} %}}\n")

    def job(device: str, seconds: int = 60) -> str:
        return yaml.safe_dump({
            "job_name": f"bench {device}", "device_type": "fake", "device": device, "visibility": "public",
            "timeouts": {"job": {"seconds": seconds}, "action": {"seconds": seconds}},
            "actions": [{"boot": {"method": "minimal", "reset": False, "prompts": ["fake-board# "]}}],
        })

    def finished(job_id):
        found = TestJob.objects.get(pk=job_id)
        return found if found.state == JobState.FINISHED else None

    try:
        lab.start_master()
        lab.start_scheduler()
        lab.start_worker("bench-worker")
        wait_for(lambda: Worker.objects.get(pk="bench-worker").state == 0, 60, "worker online", lab)
        starts, ends = [], []
        for _ in range(20):
            began = time.monotonic()
            (queued,) = submit_job(job("quiet"), user)
            wait_for(lambda j=queued: TestJob.objects.get(pk=j.pk).state >= JobState.RUNNING, 30, "running",
                     lab, interval=0.001)
            starts.append(time.monotonic() - began)
            done = wait_for(lambda j=queued: finished(j.pk), 60, "finished", lab, interval=0.005)
            last = LogStore(job_output_dir(done)).read(done.log_lines - 1)[0]
            result_dt = datetime.fromisoformat(yaml.safe_load(last)[0]["dt"])
            ends.append((done.end_time - result_dt).total_seconds())
        print(f"submit -> Running, 20 jobs: median {statistics.median(starts) * 1000:.0f} ms, "
              f"worst {max(starts) * 1000:.0f} ms")
        print(f"lava-run final result -> Finished: median {statistics.median(ends) * 1000:.0f} ms, "
              f"worst {max(ends) * 1000:.0f} ms")

        (chatty,) = submit_job(job("chatty", seconds=300), user)
        wait_for(lambda: TestJob.objects.get(pk=chatty.pk).state >= JobState.RUNNING, 30, "running", lab)
        began = time.monotonic()
        done = wait_for(lambda: finished(chatty.pk), 300, "chatty job finished", lab, interval=0.01)
        elapsed = time.monotonic() - began
        lines = LogStore(job_output_dir(done)).read()
        board = [line for line in lines if '"target"' in line and "line-" in line]
        numbers = [int(line.rsplit("line-", 1)[1].split('"')[0]) for line in board]
        intact = numbers == list(range(1, LINES + 1))
        print(f"chatty board: {len(lines)} log lines stored in {elapsed:.2f} s: {len(lines) / elapsed:,.0f} lines/s "
              f"end to end ({done.get_health_display()}); board lines {len(board)}/{LINES}, "
              f"{'none lost or duplicated' if intact else 'LOST OR DUPLICATED LINES'}")
    finally:
        lab.stop_all()


if __name__ == "__main__":
    main()
