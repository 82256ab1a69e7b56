"""Jobs on the worker's disk: one directory each, ``<worker-dir>/jobs/<id>/``, with a ``state.json``.

The directory is the whole truth about a job: the master's files, lava-run's
output, stdout/stderr, and state.json (pid, status, acknowledged log lines).
A worker killed at any moment finds its jobs again from these directories:
a live lava-run is adopted, a dead one is reported, none is started twice.
A lava-run that died without writing its result (SIGKILL, OOM) never ran its
finalize: what it left on its docker daemon is swept (``docker_sweep``, a
process of its own) before the job's end is sent, also after a restart.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lava_common import file_modes
from lava_dispatcher.worker import procfs
from lava_dispatcher.worker.logs import LogTail
from lava_dispatcher.worker.report import build_end, describe_exit
from lava_dispatcher.worker.spawn import SpawnError, spawn_lava_run, write_job_files

LOG = logging.getLogger("lava-worker")

SPAWNING, RUNNING, CANCELING, FINISHED = "spawning", "running", "canceling", "finished"


@dataclass
class WorkerJobState:
    """What state.json holds."""

    job_id: int
    status: str = SPAWNING
    pid: int | None = None
    pgid: int | None = None
    start_ticks: int | None = None  # /proc start time of lava-run, so a reused pid is not mistaken for it
    start_time: float = field(default_factory=time.time)
    cancel_time: float | None = None
    killed: bool = False
    exit_code: int | None = None
    acked_lines: int = 0
    acked_offset: int = 0
    end_override: dict[str, Any] | None = None
    sweep_pending: bool = False  # lava-run died without finishing: its docker leftovers are not removed yet

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerJobState:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


class WorkerJob:
    def __init__(self, directory: Path, state: WorkerJobState, process: subprocess.Popen[bytes] | None = None):
        self.dir = directory
        self.state = state
        self.process = process  # only for a lava-run this worker spawned; adopted ones are watched in /proc
        self.tail = LogTail(directory / "output" / "logs.yaml", state.acked_lines, state.acked_offset)
        self.end_due = 0.0  # monotonic time when `end` is (re-)sent next
        self.end_sent = False
        self.batch_sent_at = 0.0
        self.sweeper: subprocess.Popen[bytes] | None = None  # docker_sweep, while it runs

    @property
    def job_id(self) -> int:
        return self.state.job_id

    @property
    def finished(self) -> bool:
        return self.state.status == FINISHED

    @property
    def output_dir(self) -> str:
        return str(self.dir / "output")

    def save(self) -> None:
        self.state.acked_lines, self.state.acked_offset = self.tail.acked_lines, self.tail.acked_offset
        temporary = self.dir / "state.json.new"
        file_modes.write_text(temporary, json.dumps(asdict(self.state)))
        os.replace(temporary, self.dir / "state.json")  # atomic: a kill -9 leaves the old or the new one

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        pid = self.state.pid
        return pid is not None and procfs.is_job_process(pid, self.state.start_ticks, self.output_dir)

    def end_report(self) -> dict[str, Any]:
        return build_end(
            self.dir,
            self.tail.total_lines(),
            self.state.exit_code,
            canceled=self.state.cancel_time is not None,
            override=self.state.end_override,
        )


class JobStore:
    def __init__(
        self, worker_dir: Path, lava_run: str, cancel_kill_after: float, allowed_file_dirs: tuple[Path, ...] = ()
    ):
        self.root = worker_dir / "jobs"
        file_modes.make_dirs(self.root)
        self.lava_run = lava_run
        self.allowed_file_dirs = allowed_file_dirs
        self.cancel_kill_after = cancel_kill_after
        self.jobs: dict[int, WorkerJob] = {}

    def summary(self) -> list[dict[str, Any]]:
        """The `jobs` field of hello and heartbeat."""
        return [
            {"id": job.job_id, "state": "finished" if job.finished else "running"} for job in self.jobs.values()
        ]

    # start-up
    def load(self) -> None:
        """Find the jobs a previous worker left: adopt the running ones, report the dead ones."""
        for state_file in sorted(self.root.glob("*/state.json")):
            try:
                state = WorkerJobState.from_json(json.loads(state_file.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                LOG.error("%s: unreadable (%s); leaving the directory for a human to look at", state_file, exc)
                continue
            job = WorkerJob(state_file.parent, state)
            if state.status == SPAWNING:
                if not self._recover_spawning(job):
                    continue
            self.jobs[state.job_id] = job
            if job.finished:
                LOG.info("job %d: finished before the restart; its end will be reported", job.job_id)
                if state.sweep_pending:
                    self._start_sweep(job)
            elif job.alive():
                LOG.info("job %d: lava-run (pid %s) still running: adopted", job.job_id, state.pid)
            else:
                LOG.info("job %d: lava-run (pid %s) ended while the worker was away", job.job_id, state.pid)
                self._ended(job, None)

    def _recover_spawning(self, job: WorkerJob) -> bool:
        # the worker died between writing the files and recording the pid: is lava-run running anyway?
        pids = procfs.find_job_processes(job.output_dir)
        if not pids:
            LOG.info("job %d: never started; waiting for the master to send it again", job.job_id)
            shutil.rmtree(job.dir, ignore_errors=True)
            return False
        pid = min(pids)
        try:
            job.state.pid, job.state.pgid = pid, os.getpgid(pid)
        except ProcessLookupError:
            job.state.pid, job.state.pgid = pid, pid  # it ended meanwhile; start_new_session made pgid == pid
        job.state.start_ticks = procfs.start_ticks(pid)
        job.state.status = RUNNING
        job.save()
        return True

    # master's requests
    def start(self, message: dict[str, Any]) -> WorkerJob:
        job_id = message["job_id"]
        directory = self.root / str(job_id)
        if (directory / "state.json").exists():
            # load() could not read it: lava-run may be running, so starting again could run the job twice
            raise SpawnError(f"{directory} holds an unreadable state.json from an earlier start; not starting "
                             "the job twice (remove the directory once no lava-run uses it)")
        if directory.exists():  # a leftover without state.json: the previous attempt never spawned
            shutil.rmtree(directory)
        job = WorkerJob(directory, WorkerJobState(job_id))
        try:
            write_job_files(directory, message)
            job.save()
            job.process = spawn_lava_run(
                self.lava_run, directory, job_id, message["env"], message["env_dut"], self.allowed_file_dirs
            )
        except SpawnError:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        pid = job.process.pid
        job.state.pid, job.state.pgid, job.state.status = pid, pid, RUNNING
        job.state.start_ticks = procfs.start_ticks(pid)
        job.save()
        self.jobs[job_id] = job
        LOG.info("job %d: lava-run started (pid %d)", job_id, pid)
        return job

    def cancel(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            # nothing to stop: record an end so that the master hears about it until it acknowledges
            directory = self.root / str(job_id)
            file_modes.make_dirs(directory)
            override = {"result": "fail", "error_type": "Canceled", "error_msg": "canceled: not running here"}
            job = WorkerJob(directory, WorkerJobState(job_id, status=FINISHED, end_override=override))
            job.save()
            self.jobs[job_id] = job
            LOG.info("job %d: cancel of a job this worker does not run", job_id)
            return
        if job.state.status != RUNNING:
            return  # the master repeats cancel every heartbeat: one SIGTERM, then the kill timer
        LOG.info("job %d: canceling (SIGTERM to process group %s)", job_id, job.state.pgid)
        job.state.status, job.state.cancel_time = CANCELING, time.time()
        job.save()
        self._signal_group(job, signal.SIGTERM)

    def remove(self, job_id: int) -> None:
        job = self.jobs.pop(job_id, None)
        if job is not None:
            shutil.rmtree(job.dir, ignore_errors=True)
            LOG.info("job %d: end acknowledged; directory removed", job_id)

    # watching
    def poll(self) -> list[WorkerJob]:
        """Jobs whose lava-run ended since the last call; also applies the SIGKILL timer of cancels."""
        ended = []
        for job in self.jobs.values():
            if job.sweeper is not None and job.sweeper.poll() is not None:
                self._swept(job)
            if job.finished:
                continue
            if not job.alive():
                self._ended(job, job.process.returncode if job.process is not None else None)
                ended.append(job)
            elif job.state.status == CANCELING and not job.state.killed:
                assert job.state.cancel_time is not None
                if time.time() - job.state.cancel_time >= self.cancel_kill_after:
                    LOG.warning("job %d: still running %.0f s after SIGTERM: SIGKILL to its process group",
                                job.job_id, self.cancel_kill_after)
                    job.state.killed = True
                    job.save()
                    self._signal_group(job, signal.SIGKILL)
        return ended

    def _ended(self, job: WorkerJob, exit_code: int | None) -> None:
        # what lava-run left behind (a QEMU, a telnet) goes with it; but a live process whose pid is the
        # group id is not lava-run (it ended): that pid was reused, and the group is someone else's
        if job.state.pgid is not None and procfs.start_ticks(job.state.pgid) is None:
            self._signal_group(job, signal.SIGKILL)
        job.state.status, job.state.exit_code = FINISHED, exit_code
        job.state.sweep_pending = not (job.dir / "output" / "result.yaml").exists()
        job.save()
        job.end_due = 0.0
        LOG.info("job %d: lava-run ended (%s)", job.job_id, describe_exit(exit_code))
        if job.state.sweep_pending:
            self._start_sweep(job)

    @staticmethod
    def _start_sweep(job: WorkerJob) -> None:
        # a process, not a call: a slow or unreachable docker daemon must not stall the loop (its SIGCHLD wakes it)
        try:
            file_modes.write_text(job.dir / "sweep.log", "")  # what this sweep says, not an earlier one's
            with file_modes.open_append(job.dir / "sweep.log") as output:
                job.sweeper = subprocess.Popen(
                    [sys.executable, "-m", "lava_dispatcher.worker.docker_sweep", str(job.dir)],
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, close_fds=True,
                )
        except OSError as exc:
            LOG.error("job %d: cannot sweep what lava-run left on docker: %s", job.job_id, exc)
            job.state.sweep_pending = False
            job.save()

    @staticmethod
    def _swept(job: WorkerJob) -> None:
        assert job.sweeper is not None
        code, job.sweeper = job.sweeper.returncode, None
        try:
            said = (job.dir / "sweep.log").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            said = ""
        if code != 0:
            LOG.error("job %d: what lava-run left on docker is not all removed (%s): %s", job.job_id,
                      describe_exit(code), said or "no message")
        elif said:
            LOG.info("job %d: lava-run died without finishing; %s", job.job_id, said.replace("\n", "; "))
        job.state.sweep_pending = False
        job.save()
        job.end_due = 0.0

    @staticmethod
    def _signal_group(job: WorkerJob, signum: int) -> None:
        if job.state.pgid is None:
            return
        try:
            os.killpg(job.state.pgid, signum)
        except ProcessLookupError:
            pass
        except PermissionError as exc:
            LOG.error("job %d: cannot signal process group %d: %s", job.job_id, job.state.pgid, exc)
