"""Shared helpers for dispatcher tests: run lava-run in a subprocess and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def write_dispatcher_config(tmp_path: Path, extra: dict | None = None) -> Path:
    path = tmp_path / "dispatcher.yaml"
    config = {"dispatcher_download_dir": str(tmp_path / "dl"), "tftp_root": str(tmp_path / "tftp"), "prefix": "t-"}
    path.write_text(yaml.safe_dump({**config, **(extra or {})}))
    return path


def run_lava(tmp_path: Path, job: dict | Path, device: Path, *extra: str, timeout: float = 300,
             dispatcher_extra: dict | None = None):
    if isinstance(job, dict):
        job_path = tmp_path / "job.yaml"
        job_path.write_text(yaml.safe_dump(job))
    else:
        job_path = job
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "lava_dispatcher.cli", "--job-id", "1", "--output-dir", str(out),
        "--device", str(device), "--dispatcher", str(write_dispatcher_config(tmp_path, dispatcher_extra)), *extra, str(job_path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    records = parse_stream(proc.stderr)
    return proc, records, out


def parse_stream(text: str) -> list[dict]:
    """Records written on stderr: one JSON map per line."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def results(records: list[dict]) -> list[dict]:
    return [r["msg"] for r in records if r["lvl"] == "results"]


def job_result(records: list[dict]) -> dict:
    return [r for r in results(records) if r["definition"] == "lava" and r["case"] == "job"][-1]
