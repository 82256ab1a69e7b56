"""One job run: lava-run against its virtual board, with the run's peers in its dispatcher configuration; its
outcome."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from corpus_run import REPO
from corpus_run.adapt import adapt
from corpus_run.boards import TAP_BOARDS
from corpus_run.left_out import LeftOut
from corpus_run.peers import DOCKERD, NFS


@dataclass
class Outcome:
    label: str
    state: str  # Complete, Incomplete, left out
    detail: str = ""


def dispatcher_config(folder: Path, coordinator: Path | None) -> Path:
    path = folder / "dispatcher.yaml"
    config = {"dispatcher_download_dir": str(folder / "dl"), "tftp_root": str(folder / "tftp"),
              "prefix": "cr-", "dispatcher_ip": "10.0.2.2"}
    if coordinator:
        config["coordinator_config"] = str(coordinator)
    if DOCKERD.daemon is not None:
        config["docker_host"] = DOCKERD.daemon.host
    config.update(NFS.dispatcher_keys())
    if folder in TAP_BOARDS:
        config.update(TAP_BOARDS[folder].dispatcher_keys())
    path.write_text(yaml.safe_dump(config))
    return path


def lava_run(folder: Path, job: dict, device: dict, job_id: str, coordinator: Path | None = None) -> subprocess.Popen:
    (folder / "job.yaml").write_text(yaml.safe_dump(job))
    (folder / "device.yaml").write_text(yaml.safe_dump(device))
    cmd = [sys.executable, "-m", "lava_dispatcher.cli", "--job-id", job_id, "--output-dir", str(folder / "out"),
           "--device", str(folder / "device.yaml"), "--dispatcher", str(dispatcher_config(folder, coordinator)),
           str(folder / "job.yaml")]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=(folder / "log.jsonl").open("w"), cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def finish(proc: subprocess.Popen, folder: Path, timeout: float) -> tuple[str, str]:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return "Incomplete", f"lava-run still running after {timeout:.0f} s"
    result_file = folder / "out" / "result.yaml"
    result = (yaml.safe_load(result_file.read_text()) if result_file.exists() else None) or {}
    if proc.returncode == 0 and result.get("result") == "pass":
        return "Complete", results_summary(folder)
    return "Incomplete", str(result.get("error_msg") or f"lava-run exit {proc.returncode}")[:300]


def results_summary(folder: Path) -> str:
    """'N test cases: P pass, F fail' from the results lava-run logged, the job's own excluded."""
    counts: Counter[str] = Counter()
    for line in (folder / "log.jsonl").read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            msg = record.get("msg")
            if record.get("lvl") == "results" and isinstance(msg, dict) and msg.get("definition") != "lava":
                counts[str(msg.get("result"))] += 1
    if not counts:
        return "no test cases"
    return f"{sum(counts.values())} test cases: " + ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))


def job_timeout(job: dict) -> float:
    job_limit = ((job.get("timeouts") or {}).get("job") or {"minutes": 10})
    seconds = sum(float(job_limit.get(k, 0)) * m for k, m in (("hours", 3600), ("minutes", 60), ("seconds", 1)))
    return seconds + 60


def run_single(label: str, job: dict, work: Path, repo: Path, timeout_factor: float = 1) -> Outcome:
    try:
        adapted, device, notes = adapt(job, work, repo, timeout_factor)
    except LeftOut as exc:
        return Outcome(label, "left out", str(exc))
    proc = lava_run(work, adapted, device, "1")
    state, detail = finish(proc, work, job_timeout(adapted))
    return Outcome(label, state, "; ".join([detail, *notes]).strip("; "))
